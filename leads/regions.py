"""Default country → region mapping; each organization may override countries."""

from __future__ import annotations

from django.db import models


class Region(models.TextChoices):
    NORTH_AMERICA = "north_america", "North America"
    EUROPE = "europe", "Europe"
    APAC = "apac", "APAC"
    LATIN_AMERICA = "latin_america", "Latin America"
    MIDDLE_EAST_AFRICA = "mea", "Middle East & Africa"
    OTHER = "other", "Other"


_REGION_COUNTRIES: dict[Region, str] = {
    Region.NORTH_AMERICA: "US CA PR UM BM GL PM",
    Region.EUROPE: (
        "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GG GI GR HR HU IE IM IS IT JE LI LT "
        "LU LV MC MD ME MK MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK"
    ),
    Region.APAC: (
        "AS AU BD BN BT CC CK CN CX FJ FM GU HK ID IN IO JP KH KI KP KR LA LK MH MM MN MO MP MV MY NC "
        "NF NP NR NU NZ PF PG PH PK PN PW SB SG TH TK TL TO TV TW VN VU WF WS KZ KG TJ TM UZ AF"
    ),
    Region.LATIN_AMERICA: (
        "AG AI AR AW BB BL BO BQ BR BS BZ CL CO CR CU CW DM DO EC FK GD GF GP GT GY HN HT JM KN KY LC "
        "MF MQ MS MX NI PA PE PY SR SV SX TC TT UY VC VE VG VI"
    ),
    Region.MIDDLE_EAST_AFRICA: (
        "AE AM AO AZ BF BH BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GE GH GM GN GQ GW IL IQ IR "
        "JO KE KM KW LB LR LS LY MA MG ML MR MU MW MZ NA NE NG OM PS QA RE RW SA SC SD SH SL SN SO SS "
        "ST SY SZ TD TG TN TR TZ UG YE YT ZA ZM ZW"
    ),
}

DEFAULT_COUNTRY_REGION: dict[str, Region] = {
    code: region for region, codes in _REGION_COUNTRIES.items() for code in codes.split()
}


def default_region_for(country: str) -> str:
    """The default region of an ISO 3166-1 alpha-2 code; '' for no country, else Other when unmapped."""
    if not country:
        return ""
    return DEFAULT_COUNTRY_REGION.get(country.upper(), Region.OTHER)

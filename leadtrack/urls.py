from django.urls import include, path

from capture.tracking.public_urls import MOUNT as TRACKING_MOUNT
from leadtrack import views
from leadtrack.accounts import mfa_views
from leadtrack.accounts import views as account_views
from leadtrack.tenancy import views as tenancy_views

urlpatterns = [
    # Public web capture first: the busiest paths (form posts and embeds, the tracking script and
    # its events) are then matched without trying every organization pattern before them.
    path(TRACKING_MOUNT, include("capture.tracking.public_urls")),
    path("f/", include("capture.forms.public_urls")),
    path("", tenancy_views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/login/", mfa_views.LoginView.as_view(), name="login"),
    path("accounts/mfa/", mfa_views.mfa_verify, name="mfa_verify"),
    path("accounts/mfa/setup/", mfa_views.mfa_setup, name="mfa_setup"),
    path("accounts/mfa/recovery-codes/", mfa_views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("organizations/new/", tenancy_views.organization_create, name="organization_create"),
    path(
        "invitations/<slug:org_slug>/<str:token>/",
        tenancy_views.invitation_accept,
        name="invitation_accept",
    ),
    path("api/v1/", include("leadtrack.api.urls")),
    path("o/<slug:org_slug>/", include("leadtrack.tenancy.urls")),
    path("o/<slug:org_slug>/settings/api/", include("leadtrack.api.settings_urls")),
    path("o/<slug:org_slug>/settings/privacy/", include("leadtrack.privacy.urls")),
    path("o/<slug:org_slug>/leads/import/", include("leads.imports.urls")),
    path("o/<slug:org_slug>/leads/export/", include("leads.imports.export_urls")),
    path("o/<slug:org_slug>/leads/", include("leads.urls")),
    path("o/<slug:org_slug>/reports/referrals/", include("reports.quarterly.urls")),
    path("o/<slug:org_slug>/scoring/", include("funnel.scoring.urls")),
    path("o/<slug:org_slug>/predictions/", include("funnel.predictions.urls")),
    path("o/<slug:org_slug>/routing/", include("funnel.routing.urls")),
    path("o/<slug:org_slug>/forms/", include("capture.forms.urls")),
    path("o/<slug:org_slug>/tracking/", include("capture.tracking.urls")),
    path("o/<slug:org_slug>/dashboards/attribution/", include("reports.attribution.urls")),
    path("o/<slug:org_slug>/", include("reports.urls")),
    path("o/<slug:org_slug>/", include("referrals.urls")),
    path("r/", include("referrals.public_urls")),
    path("hooks/email/", include("reports.attribution.hooks_urls")),
]

# JSON 404 for unknown /api/ paths; the usual page for everything else.
handler404 = "leadtrack.api.errors.not_found_handler"

"""The report as a PDF: what the page shows, the monthly chart drawn with reportlab.graphics."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import reportlab
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import HRFlowable, Paragraph, SimpleDocTemplate, Spacer, TableStyle
from reportlab.platypus import Table as PdfTable

from reports.quarterly.exports import CHART_SERIES, NO_DATA, TITLE, no_data_row, report_sections, text_lines
from reports.quarterly.tables import Table, as_of_text

FONT, FONT_BOLD = "LeadTrackVera", "LeadTrackVera-Bold"
# Vera (shipped inside reportlab) has no arrows or Σ.
PDF_TEXT = {"→": " to ", "Σ ": "sum of "}


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    fonts = Path(reportlab.__file__).parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts / "VeraBd.ttf")))


def _pdf_text(text: str) -> str:
    for old, new in PDF_TEXT.items():
        text = text.replace(old, new)
    return escape(text)


def monthly_chart_drawing(
    report: dict[str, Any], width: float = 170 * mm, height: float = 70 * mm
) -> Drawing:
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 30
    chart.width, chart.height = width - 150, height - 45
    chart.data = [[month[measure] for month in report["monthly"]] for measure, _, _ in CHART_SERIES]
    chart.categoryAxis.categoryNames = [month["label"] for month in report["monthly"]]
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.valueMin = 0
    chart.valueAxis.forceZero = True
    chart.groupSpacing = 8
    chart.barSpacing = 1
    for index, (_, _, colour) in enumerate(CHART_SERIES):
        chart.bars[index].fillColor = colors.HexColor(colour)
        chart.bars[index].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = FONT
    chart.barLabels.fontSize = 6
    chart.barLabels.nudge = 5
    drawing.add(chart)
    legend = Legend()
    legend.x, legend.y = width - 110, height - 20
    legend.fontName = FONT
    legend.fontSize = 8
    legend.alignment = "right"
    legend.columnMaximum = len(CHART_SERIES)
    legend.colorNamePairs = [(colors.HexColor(colour), label) for _, label, colour in CHART_SERIES]
    drawing.add(legend)
    drawing.add(String(30, height - 10, "Monthly lead volume (flow)", fontName=FONT_BOLD, fontSize=9))
    return drawing


def _pdf_table(table: Table, styles) -> PdfTable:
    data = [[Paragraph(f"<b>{escape(column)}</b>", styles["cell"]) for column in table.columns]]
    rows = table.rows or [no_data_row(table)]
    data += [[Paragraph(_pdf_text(cell.text), styles["cell"]) for cell in row] for row in rows]
    first = 60 * mm if len(table.columns) > 3 else 80 * mm
    rest = (170 * mm - first) / (len(table.columns) - 1)
    pdf_table = PdfTable(data, colWidths=[first, *([rest] * (len(table.columns) - 1))], repeatRows=1)
    pdf_table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#9ca3af")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    return pdf_table


def report_pdf(report: dict[str, Any]) -> bytes:
    _register_fonts()
    base = getSampleStyleSheet()
    styles = {
        "title": ParagraphStyle("title", parent=base["Title"], fontName=FONT_BOLD, fontSize=18),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], fontName=FONT_BOLD),
        "h3": ParagraphStyle("h3", parent=base["Heading3"], fontName=FONT_BOLD),
        "h4": ParagraphStyle("h4", parent=base["Heading4"], fontName=FONT_BOLD),
        "body": ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=9, leading=12),
        "note": ParagraphStyle(
            "note", parent=base["BodyText"], fontName=FONT, fontSize=7.5, leading=10, textColor=colors.grey
        ),
        "cell": ParagraphStyle("cell", parent=base["BodyText"], fontName=FONT, fontSize=8.5, leading=10),
    }
    organization, quarter = report["organization"], report["quarter"]
    story: list = [
        Paragraph(escape(TITLE), styles["title"]),
        Paragraph(escape(f"{organization['name']} - {quarter['label']}"), styles["h2"]),
        Paragraph("Executive Summary", styles["h3"]),
        Paragraph(_pdf_text(" ".join(report["executive_summary"])), styles["body"]),
    ]
    if not report["has_data"]:
        story.append(Paragraph(escape(NO_DATA), styles["body"]))
    for section, tables in report_sections(report):
        story += [HRFlowable(width="100%", color=colors.lightgrey), Paragraph(escape(section), styles["h3"])]
        for table in tables:
            story += [Paragraph(escape(table.title), styles["h4"])]
            if table.key == "monthly":
                story += [monthly_chart_drawing(report), Spacer(1, 4 * mm)]
            story += [_pdf_table(table, styles), Paragraph(_pdf_text(table.note), styles["note"])]
    story += [HRFlowable(width="100%", color=colors.lightgrey), Paragraph("Key Insights", styles["h3"])]
    story += [
        Paragraph(f"{number}. {_pdf_text(text)}", styles["body"])
        for number, text in enumerate(report["insights"], 1)
    ] or [Paragraph("—", styles["body"])]
    notes = report["notes"]
    for heading, text in (("Recommendations", notes["recommendations"]), ("Next Steps", notes["next_steps"])):
        story += [HRFlowable(width="100%", color=colors.lightgrey), Paragraph(heading, styles["h3"])]
        lines = text_lines(text) if text.strip() else ["None written yet."]
        story += [Paragraph(_pdf_text(line) or "&nbsp;", styles["body"]) for line in lines]
    story += [
        HRFlowable(width="100%", color=colors.lightgrey),
        Paragraph("Appendix: Methodology", styles["h3"]),
    ]
    for item in report["methodology"]:
        semantics = f" ({item['semantics']})" if item["semantics"] else ""
        story.append(
            Paragraph(
                f"<b>{_pdf_text(item['label'])}</b>{semantics}: {_pdf_text(item['definition'])}",
                styles["note"],
            )
        )
    story.append(Paragraph(_pdf_text(f"Data as of {as_of_text(report)}"), styles["body"]))
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{TITLE} - {organization['name']} {quarter['label']}",
        author="LeadTrack",
    )
    document.build(story)
    return buffer.getvalue()

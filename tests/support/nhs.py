"""Hand-built NHS England Community Health Services waiting-list workbooks for tests."""

from __future__ import annotations

import openpyxl


def workbook(path, month="January 2023", month_in_titles=True, cell="12", contents=True, code_column=False):
    wb = openpyxl.Workbook()
    wb.active.title = "Cover page"
    if contents:
        c = wb.create_sheet("Contents")
        c.append([None, f"Table 4: Total waiting list by service, {month}"])
        c.append([None, f"Table 4g: Number waiting over 52 weeks (over 365 days) by service, {month}"])
    lead = ["Organisation Type", "Organisation Code", "Organisation Name"] if code_column else [None, None, None]
    suffix = f", {month}" if month_in_titles else ""
    for sheet, title, values in (("Table 4", f"Total waiting list by service{suffix}", (cell, "")),
                                 ("Table 4g", f"Number waiting over 52 weeks (over 365 days) by service{suffix}",
                                  ("3", "*"))):
        ws = wb.create_sheet(sheet)
        ws.append([None, title])
        ws.append([])
        ws.append([*lead, "(CYP) Audiology", "(CYP) Therapy interventions: speech and language"])
        if code_column:
            ws.append(["National", "", "England", *values])
            ws.append(["Provider", "RYV", "CAMBRIDGESHIRE COMMUNITY SERVICES NHS TRUST", "5", "1"])
        else:
            ws.append([None, None, "England", *values])
            ws.append([None, "Organisation", "Cambridgeshire Community Services NHS Trust", "5", "1"])
    wb.save(path)
    return path

"""SEN2 with human headings: the DfE Excel submission template and per-module CSVs (docs/extracts.md).

Why: many local areas hand over the SEN2 return not as COLLECT Blade CSVs but as the DfE Excel template (one
sheet per module, headings like "Date request was received", ISO dates, ids written as floats "12.0") or as
per-module CSVs exported from a case system (``Person ID, Requests Record ID, Date Request Was Received, …``,
dates ``dd/mm/yyyy``). Both carry the same records as Blade, so they map onto the same Blade fields and go
through exactly the same validation and tables: this module only adds the headings.

Headings are matched like every other header (case, spaces and punctuation ignored), so "Twenty week time
limit exceptions apply" and "Twenty Weeks Time Limit Exceptions Apply" are the same heading.
"""

from __future__ import annotations

LAYOUT_TEMPLATE = "sen2_template"      # the Excel workbook, a sheet per module
LAYOUT_MODULE_CSV = "sen2_modules_csv"  # one CSV per module with human headings

# module → Blade field → the human headings it is also known by
HEADINGS: dict[str, dict[str, tuple[str, ...]]] = {
    "sen2": {
        "sen2tableid": ("SEN2 Table ID", "SEN2 Record ID", "SEN2 ID"),
        "collection": ("Collection", "Collection name"),
        "year": ("Year", "Collection year"),
        "referencedate": ("Reference date", "Census date"),
        "datetime": ("Date and time", "Extract date", "Date extracted"),
        "lea": ("LA", "LA number", "Local authority", "LEA"),
        "softwarecode": ("Software code",),
        "release": ("Release", "Software release"),
    },
    "person": {
        "persontableid": ("Person ID", "Person Record ID", "Person Table ID"),
        "sen2tableid": ("SEN2 Table ID", "SEN2 Record ID"),
        "surname": ("Surname", "Family name", "Last name"),
        "forename": ("Forename", "First name", "Given name"),
        "personbirthdate": ("Date of birth", "Person birth date", "Birth date", "DOB"),
        "sex": ("Sex", "Gender", "Gender current"),
        "ethnicity": ("Ethnicity", "Ethnic group"),
        "postcode": ("Postcode", "Post code"),
        "upn": ("UPN", "Unique pupil number"),
        "uniquelearnernumber": ("ULN", "Unique learner number"),
        "upnunknown": ("UPN unknown", "UPN unknown reason", "Reason UPN unknown"),
    },
    "requests": {
        "requeststableid": ("Requests Record ID", "Request Record ID", "Requests Table ID"),
        "persontableid": ("Person ID", "Person Record ID", "Person Table ID"),
        "receiveddate": ("Date request was received", "Request received date", "Date of request"),
        "requestsource": ("Request source", "Source of request"),
        "rya": ("RYA", "Request from a young adult", "Request young adult"),
        "requestoutcomedate": ("Request outcome date", "Date of request outcome", "Decision date"),
        "requestoutcome": ("Request outcome", "Outcome of request", "Decision to assess"),
        "requestmediation": ("Request mediation", "Mediation on request"),
        "requesttribunal": ("Request tribunal", "Tribunal on request"),
    },
    "assessment": {
        "assessmenttableid": ("Assessment Record ID", "Assessment Table ID", "Assessment ID"),
        "requeststableid": ("Requests Record ID", "Request Record ID", "Requests Table ID"),
        "assessmentoutcome": ("Assessment outcome to issue EHCP", "Assessment outcome", "Decision to issue EHCP"),
        "assessmentoutcomedate": ("Assessment outcome date", "Date of assessment outcome", "EHCP issue date"),
        "assessmentmediation": ("Assessment mediation",),
        "assessmenttribunal": ("Assessment tribunal",),
        "othermediation": ("Other mediation",),
        "othertribunal": ("Other tribunal",),
        "week20": ("Twenty week time limit exceptions apply", "Twenty weeks time limit exceptions apply",
                   "20 week exceptions apply", "Week 20 exception"),
    },
    "namedplan": {
        "namedplantableid": ("Named Plan Record ID", "Named Plan Table ID", "Named Plan ID"),
        "assessmenttableid": ("Assessment Record ID", "Assessment Table ID"),
        "startdate": ("EHCP start date", "Plan start date", "Start date"),
        "planres": ("Residential settings", "Plan residential"),
        "planwbp": ("Work based learning", "Plan work based placement"),
        "pb": ("Personal budget", "Personal budget taken up"),
        "oa": ("Organised arrangements",),
        "dp": ("Direct payments",),
        "ceasedate": ("EHCP cease date", "Plan cease date", "Cease date"),
        "ceasereason": ("Reason EHCP ceased", "Cease reason", "Reason plan ceased"),
    },
    "plandetail": {
        "plandetailtableid": ("Plan Detail Record ID", "Plan Detail Table ID"),
        "namedplantableid": ("Named Plan Record ID", "Named Plan Table ID"),
        "urn": ("URN", "Establishment URN"),
        "ukprn": ("UKPRN",),
        "sensetting": ("SEN setting", "Setting type"),
        "sensettingother": ("SEN setting other", "Other setting"),
        "placementrank": ("Placement rank",),
        "senunitindicator": ("SEN unit indicator", "SEN unit"),
        "resourcedprovisionindicator": ("Resourced provision indicator", "Resourced provision"),
    },
    "activeplans": {
        "activeplanstableid": ("Active Plans Record ID", "Active Plan Record ID", "Active Plans Table ID"),
        "requeststableid": ("Requests Record ID", "Request Record ID", "Requests Table ID"),
        "transferla": ("Transfer LA", "Transferred from LA"),
        "reviewmeeting": ("EHCP review meeting date", "Review meeting date", "Annual review meeting date"),
        "lastreview": ("EHCP review decisions date", "EHCP review decision date", "Review decision date"),
        "reviewoutcome": ("Review outcome", "EHCP review outcome"),
        "reviewdraft": ("Review draft date", "Draft amended plan date"),
        "phasetransferduedate": ("Phase transfer due date",),
        "phasetransferfinaldate": ("Phase transfer final date", "Phase transfer final plan date"),
    },
    "placementdetail": {
        "placementdetailtableid": ("Placement Detail Record ID", "Placement Detail Table ID"),
        "activeplanstableid": ("Active Plans Record ID", "Active Plan Record ID"),
        "urn": ("URN", "Establishment URN"),
        "ukprn": ("UKPRN",),
        "sensetting": ("SEN setting", "Setting type"),
        "sensettingother": ("SEN setting other", "Other setting"),
        "placementrank": ("Placement rank",),
        "entrydate": ("Entry date", "Placement start date"),
        "leavingdate": ("Leaving date", "Placement end date"),
        "senunitindicator": ("SEN unit indicator", "SEN unit"),
        "resourcedprovisionindicator": ("Resourced provision indicator", "Resourced provision"),
        "res": ("Residential", "Residential placement"),
        "wbp": ("Work based placement",),
    },
    "senneed": {
        "senneedtableid": ("SEN Need Record ID", "SEN Need Table ID"),
        "activeplanstableid": ("Active Plans Record ID", "Active Plan Record ID"),
        "sentype": ("SEN type", "Type of need", "Primary need"),
        "sentyperank": ("SEN type rank", "Need rank"),
    },
}

# Sheet name the template writer uses for each module (any sheet name is accepted when reading).
SHEET_NAMES = {
    "sen2": "SEN2", "person": "Person", "requests": "Requests", "assessment": "Assessment",
    "namedplan": "Named plan", "plandetail": "Plan detail", "activeplans": "Active plans",
    "placementdetail": "Placement detail", "senneed": "SEN need",
}


def headings(module: str, field: str) -> tuple[str, ...]:
    """Human headings of one Blade field (empty when it has none)."""
    return HEADINGS.get(module, {}).get(field, ())


def heading(module: str, field: str) -> str:
    """The heading a writer uses for a Blade field: the first human one, else the Blade name."""
    names = headings(module, field)
    return names[0] if names else field

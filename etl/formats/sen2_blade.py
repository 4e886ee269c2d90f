"""SEN2 COLLECT "Blade" export: one CSV per module (DfE's SEN2 guide names the fields).

The layout is declared here as data: for each module, its key, its parent and every field with the
clean column it lands in, its type, whether it is required and its code list; and the module's own rules
comparing fields of one row, with what they need from elsewhere (its context) and the columns derived before an
identifier is dropped: the statements that validate a table (:mod:`etl.loader`, :mod:`etl.checks`) name no module.
Identifier fields (names, birth date, postcode, UPN, ULN) have kind ``identifier``: they are read for validation
and pseudonymisation and never stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etl.sql_text import in_list

OUTCOME_CODES = ("Y", "N", "A", "W", "H")
ASSESSMENT_CODES = ("Y", "N", "A", "W", "H", "S")
CEASE_REASONS = tuple(str(i) for i in range(1, 10))
SEN_TYPES = ("SPLD", "MLD", "SLD", "PMLD", "SEMH", "SLCN", "HI", "VI", "MSI", "PD", "ASD", "OTH", "DS", "NSA")
SEN_SETTINGS = ("OLA", "OPA", "EHE", "EYP", "OTH", "NEET", "NIEC", "NIEO")
REVIEW_OUTCOMES = ("A", "C", "M")
UPN_UNKNOWN = ("UN1", "UN2", "UN3", "UN5", "UN8", "UN9", "UN10")
MAX_AGE_AT_REQUEST = 25


@dataclass(frozen=True)
class Field:
    """One column of a module: where it goes and what it must hold."""

    source: str
    target: str | None
    kind: str  # id | person_id | text | date | int | flag | code | identifier | number | period (YYYY-MM)
    required: bool = False
    codes: tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Module:
    """A SEN2 module: its clean table, key column and parent (foreign key)."""

    name: str
    table: str
    key: Field
    parent: tuple[str, str] | None  # (source column, parent module name)
    fields: tuple[Field, ...]
    layout: str = "sen2_blade"
    key_parts: tuple[str, ...] = ()  # targets forming the key when the layout has no id column (as record_key)
    rules: tuple[tuple[str, str, str], ...] = ()  # (condition on typed columns, column blamed, reason)
    exact_columns: bool = False  # local extracts: columns exactly these; extra ones are ignored with a warning
    description: str = ""
    # What the rules need from elsewhere in the load or the database: (extra columns, joins onto the typed rows
    # ``t``, whose ``t._area`` is each row's area, so every join stays within it); and which of those columns are
    # stored with the record.
    context: tuple[str, str] | None = None
    context_stored: tuple[str, ...] = ()
    # Clean columns computed from a field before it is dropped: (target, source field, SQL of its raw text).
    derived: tuple[tuple[str, str, Callable[[str], str]], ...] = ()

    @property
    def key_column(self) -> str:
        """The clean table's key column: the id's target, or ``record_key`` built from ``key_parts``."""
        return "record_key" if self.key_parts else self.key.target

    @property
    def all_fields(self) -> tuple[Field, ...]:
        return (self.key, *self.fields)

    @property
    def required_columns(self) -> list[str]:
        return [f.source for f in self.all_fields if f.required]


def _id(source: str, target: str, required: bool = True) -> Field:
    return Field(source, target, "id", required)


def postcode_district_sql(postcode: str) -> str:
    """The outward code of a UK postcode: everything before its last three characters (the inward code)."""
    compact = f"upper(replace({postcode}, ' ', ''))"
    return f"CASE WHEN length({compact}) BETWEEN 5 AND 7 THEN left({compact}, length({compact}) - 3) END"


# Age from the birth date in this load's person file (the loader's ``_person_dob``); when the person file is not in
# the load, the age already stored for the same request received on the same day is kept (the birth date itself is
# never stored).
REQUEST_CONTEXT = (
    "_birth_date, coalesce(CAST(date_diff('year', _birth_date, received_date) - "
    "CASE WHEN strftime(received_date, '%m%d') < strftime(_birth_date, '%m%d') THEN 1 ELSE 0 END AS INTEGER), "
    "_stored_age) AS age_at_request",
    "LEFT JOIN (SELECT area_code AS _pa, person_key AS _pk, _birth_date FROM _person_dob) d "
    "ON d._pa = t._area AND d._pk = t.person_key "
    "LEFT JOIN (SELECT area_code AS _sa, request_id AS _rid, received_date AS _rd, age_at_request AS _stored_age "
    "FROM request) s ON s._sa = t._area AND s._rid = t.request_id AND s._rd = t.received_date",
)


MODULES: tuple[Module, ...] = (
    Module("sen2", "sen2_return", _id("sen2tableid", "sen2_id"), None, (
        Field("collection", "collection", "text"),
        Field("year", "year", "int"),
        Field("referencedate", "reference_date", "date"),
        Field("datetime", "extract_datetime", "date"),  # when the extract was produced: its as-at date
        Field("lea", "lea", "text"),
        Field("softwarecode", "software_code", "text"),
        Field("release", "release", "text"),
    )),
    Module("person", "person", Field("persontableid", "person_key", "person_id", True), ("sen2tableid", "sen2"), (
        _id("sen2tableid", "sen2_id", required=False),
        Field("surname", None, "identifier"),
        Field("forename", None, "identifier"),
        Field("personbirthdate", None, "identifier", required=True),
        Field("sex", "sex", "text", aliases=("gendercurrent",)),
        Field("ethnicity", "ethnicity", "text"),
        Field("postcode", None, "identifier"),
        Field("upn", None, "identifier"),
        Field("uniquelearnernumber", None, "identifier"),
        Field("upnunknown", "upn_unknown", "code", codes=UPN_UNKNOWN),
    ), derived=(("postcode_district", "postcode", postcode_district_sql),)),
    Module("requests", "request", _id("requeststableid", "request_id"), ("persontableid", "person"), (
        Field("persontableid", "person_key", "person_id", True),
        Field("receiveddate", "received_date", "date", required=True),
        Field("requestsource", "request_source", "text"),
        Field("rya", "rya", "text"),
        Field("requestoutcomedate", "request_outcome_date", "date"),
        Field("requestoutcome", "request_outcome", "code", codes=OUTCOME_CODES),
        Field("requestmediation", "request_mediation", "text"),
        Field("requesttribunal", "request_tribunal", "text"),
    ), context=REQUEST_CONTEXT, context_stored=("age_at_request",), rules=(
        ("request_outcome_date < received_date", "requestoutcomedate",
         "decision is dated before the request was received"),
        ("request_outcome IN ('Y', 'N') AND request_outcome_date IS NULL", "requestoutcomedate",
         "an outcome of Y or N needs a decision date"),
        ("_birth_date > received_date", "receiveddate", "request is dated before the child's birth"),
        (f"age_at_request > {MAX_AGE_AT_REQUEST}", "receiveddate",
         f"child is over {MAX_AGE_AT_REQUEST} at the request"),
    )),
    Module("assessment", "assessment", _id("assessmenttableid", "assessment_id"),
           ("requeststableid", "requests"), (
        _id("requeststableid", "request_id"),
        Field("assessmentoutcome", "assessment_outcome", "code", codes=ASSESSMENT_CODES),
        Field("assessmentoutcomedate", "assessment_outcome_date", "date"),
        Field("assessmentmediation", "assessment_mediation", "text"),
        Field("assessmenttribunal", "assessment_tribunal", "text"),
        Field("othermediation", "other_mediation", "text"),
        Field("othertribunal", "other_tribunal", "text"),
        Field("week20", "week20_exception", "flag"),
    ), context=("r.received_date AS _received_date",
                "LEFT JOIN request r ON r.area_code = t._area AND r.request_id = t.request_id"), rules=(
        ("assessment_outcome_date < _received_date", "assessmentoutcomedate",
         "outcome is dated before the request was received"),
    )),
    Module("namedplan", "named_plan", _id("namedplantableid", "named_plan_id"),
           ("assessmenttableid", "assessment"), (
        _id("assessmenttableid", "assessment_id"),
        Field("startdate", "start_date", "date"),
        Field("planres", "plan_res", "text"),
        Field("planwbp", "plan_wbp", "text"),
        Field("pb", "pb", "text"),
        Field("oa", "oa", "text"),
        Field("dp", "dp", "text"),
        Field("ceasedate", "cease_date", "date"),
        Field("ceasereason", "cease_reason", "code", codes=CEASE_REASONS),
    ), rules=(("cease_date < start_date", "ceasedate", "plan ceases before it starts"),)),
    Module("plandetail", "plan_detail", _id("plandetailtableid", "plan_detail_id"),
           ("namedplantableid", "namedplan"), (
        _id("namedplantableid", "named_plan_id"),
        Field("urn", "urn", "id", required=False),
        Field("ukprn", "ukprn", "id", required=False),
        Field("sensetting", "sen_setting", "code", codes=SEN_SETTINGS),
        Field("sensettingother", "sen_setting_other", "text"),
        Field("placementrank", "placement_rank", "int"),
        Field("senunitindicator", "sen_unit", "text"),
        Field("resourcedprovisionindicator", "resourced_provision", "text"),
    )),
    Module("activeplans", "active_plan", _id("activeplanstableid", "active_plan_id"),
           ("requeststableid", "requests"), (
        _id("requeststableid", "request_id"),
        Field("transferla", "transfer_la", "text"),
        Field("reviewmeeting", "review_meeting_date", "date"),
        Field("lastreview", "review_decision_date", "date"),
        Field("reviewoutcome", "review_outcome", "code", codes=REVIEW_OUTCOMES),
        Field("reviewdraft", "review_draft", "date"),
        Field("phasetransferduedate", "phase_transfer_due", "date"),
        Field("phasetransferfinaldate", "phase_transfer_final", "date"),
    ), rules=(("review_decision_date < review_meeting_date", "lastreview",
               "review decision is dated before the meeting"),)),
    Module("placementdetail", "placement_detail", _id("placementdetailtableid", "placement_detail_id"),
           ("activeplanstableid", "activeplans"), (
        _id("activeplanstableid", "active_plan_id"),
        Field("urn", "urn", "id", required=False),
        Field("ukprn", "ukprn", "id", required=False),
        Field("sensetting", "sen_setting", "code", codes=SEN_SETTINGS),
        Field("sensettingother", "sen_setting_other", "text"),
        Field("placementrank", "placement_rank", "int"),
        Field("entrydate", "entry_date", "date"),
        Field("leavingdate", "leaving_date", "date"),
        Field("senunitindicator", "sen_unit", "text"),
        Field("resourcedprovisionindicator", "resourced_provision", "text"),
        Field("res", "res", "text"),
        Field("wbp", "wbp", "text"),
    )),
    Module("senneed", "sen_need", _id("senneedtableid", "sen_need_id"), ("activeplanstableid", "activeplans"), (
        _id("activeplanstableid", "active_plan_id"),
        Field("sentype", "sen_type", "code", required=True, codes=SEN_TYPES),
        Field("sentyperank", "sen_type_rank", "int"),
    )),
)

MODULE_BY_NAME = {m.name: m for m in MODULES}
LOAD_ORDER = [m.name for m in MODULES]
DATE_FORMATS = ("%Y-%b-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S")


def date_sql(raw: str) -> str:
    """SQL parsing the text ``raw`` as a date in the first of DATE_FORMATS that fits it, NULL when none does.

    A text shaped like an ISO date (YYYY-MM-DD, ten characters) tries that format first: in DuckDB a format that
    fails costs ten times one that fits, and the two formats with a time of day before it can never fit ten
    characters, so the result is the same as trying the list in order."""
    formats = "[" + in_list(DATE_FORMATS) + "]"
    return (f"CAST(CASE WHEN {raw} LIKE '____-__-__' THEN coalesce(try_strptime({raw}, '%Y-%m-%d'), "
            f"try_strptime({raw}, {formats})) ELSE try_strptime({raw}, {formats}) END AS DATE)")

"""Loading DfE's published files: exact published figures, markers, vintages, reorganisations, neighbours."""

from __future__ import annotations

import csv
import io
import shutil

import duckdb
import pytest

from etl.__main__ import main as etl_main
from etl.formats.dfe_csv import measure_name, snake
from etl.load import load_paths
from tests.conftest import PUBLISHED_DATA, published_plain, published_text

CB = "E06000056"
ENGLAND = "E92000001"


def _q(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _kpi(db, kpi_id, area, year):
    rows = _q(db, "SELECT numerator, denominator, value, dataset FROM published_kpi "
                  "WHERE kpi_id = ? AND area_code = ? AND year = ?", [kpi_id, area, year])
    assert len(rows) == 1, rows
    return rows[0]


def _measure(db, dataset, measure, area, year):
    rows = _q(db, "SELECT value, marker FROM published_value WHERE dataset = ? AND measure = ? AND area_code = ? "
                  "AND year = ? AND (breakdown_topic = 'Total' OR breakdown_topic LIKE 'All %')",
              [dataset, measure, area, year])
    assert len(rows) == 1, rows
    return rows[0]


# --- exact published figures -------------------------------------------------------------------------------

def test_central_bedfordshire_2024_timeliness_as_published(published_db):
    assert _kpi(published_db, "ehcp_20wk_excl", CB, 2024) == (271, 555, 48.8, "timeliness_20_week")
    assert _kpi(published_db, "ehcp_20wk_incl", CB, 2024) == (276, 649, 42.5, "timeliness_20_week")
    assert _kpi(published_db, "ehcp_20wk_excl", ENGLAND, 2024)[2] == 46.4
    assert _measure(published_db, "timeliness_20_week", "plans_issued_den_ex", CB, 2024) == (555, None)


@pytest.mark.parametrize(("year", "requests", "issued", "within", "pc_incl", "den_ex", "within_ex", "pc_ex",
                          "england_ex"), [
    (2019, 375, 206, 182, 88.3, 205, 182, 88.8, 60.4),
    (2020, 478, 324, 166, 51.2, 268, 166, 61.9, 58.0),
    (2021, 618, 474, 51, 10.8, 401, 51, 12.7, 59.9),
    (2022, 736, 530, 50, 9.4, 391, 47, 12.0, 49.2),
    (2023, 909, 721, 198, 27.5, 583, 195, 33.4, 50.3),
    (2024, 944, 649, 276, 42.5, 555, 271, 48.8, 46.4),
])
def test_domain_table_of_published_figures(published_db, year, requests, issued, within, pc_incl, den_ex, within_ex,
                                           pc_ex, england_ex):
    db = published_db
    assert _measure(db, "requests", "requests_received_in_year", CB, year) == (requests, None)
    assert _kpi(db, "ehcp_20wk_incl", CB, year)[:3] == (within, issued, pc_incl)
    assert _kpi(db, "ehcp_20wk_excl", CB, year)[:3] == (within_ex, den_ex, pc_ex)
    assert _kpi(db, "ehcp_20wk_excl", ENGLAND, year)[2] == england_ex


def test_older_years_come_from_sen2_mi_and_match_the_england_comparators(published_db):
    for year, pc in {2015: 59.2, 2016: 58.6, 2017: 64.9, 2018: 60.1}.items():
        _, _, value, dataset = _kpi(published_db, "ehcp_20wk_excl", ENGLAND, year)
        assert (value, dataset) == (pc, "sen2_mi")
    # Where both releases cover a year the current release wins, and they agree on the counts.
    assert _kpi(published_db, "ehcp_20wk_excl", CB, 2022)[3] == "timeliness_20_week"
    assert _measure(published_db, "sen2_mi", "no_exc_20week_ehc", CB, 2022) == (47, None)
    assert _measure(published_db, "sen2_mi", "tot_no_exc_ehc", CB, 2022) == (391, None)


def test_other_kpis_2024(published_db):
    assert _kpi(published_db, "request_decision_6wk", CB, 2024) == (899, 968, 92.9, "requests")
    assert _kpi(published_db, "request_decision_6wk", ENGLAND, 2024)[2] == 84.8
    assert _kpi(published_db, "ar_decision_4wk", CB, 2024) == (1269, 2496, 50.8, "annual_reviews")
    assert _kpi(published_db, "ar_decision_4wk", ENGLAND, 2024)[2] == 44.4
    assert _measure(published_db, "annual_reviews", "review_expected", CB, 2024) == (3278, None)
    assert _measure(published_db, "annual_reviews", "total_review_meeting", CB, 2024) == (3145, None)
    assert _measure(published_db, "annual_reviews", "review_decision_outstanding", CB, 2024) == (493, None)


# --- cells, columns and headers ----------------------------------------------------------------------------

def test_markers_are_kept_without_a_value(published_db):
    assert _measure(published_db, "requests", "request_outcome_six_weeks", CB, 2019) == (None, "x")
    row = _q(published_db, "SELECT value, marker FROM published_kpi WHERE kpi_id = 'request_decision_6wk' "
                           "AND area_code = ? AND year = 2019", [CB])
    assert row == [(None, "x")]
    markers = dict(_q(published_db, "SELECT marker, count(*) FROM published_value WHERE dataset = 'sen2_mi' "
                                    "GROUP BY 1"))
    assert markers["z"] > 40000 and markers["x"] == 20


def test_rates_written_with_spaces_are_numbers(published_db):
    assert _measure(published_db, "sen2_mi", "inc_exc_20week_rate", CB, 2022) == (9.434, None)
    assert _measure(published_db, "sen2_mi", "ass_none_ehc_pc", CB, 2022) == (1.4679, None)


def test_bom_duplicated_and_misspelt_columns(published_db):
    measures = {m for (m,) in _q(published_db, "SELECT DISTINCT measure FROM published_value")}
    sources = {s for (s,) in _q(published_db, "SELECT DISTINCT source_column FROM published_value")}
    assert not any("time_period" in m or "\ufeff" in m for m in measures | sources)
    # DfE's spelling kept as written, corrected for querying.
    assert "number_decision_4weeks" in measures and "number_decsion_4weeks" not in measures
    assert "number_decsion_4weeks" in sources and "outcome_maintain" in measures
    # The duplicated column is stored once per row.
    dup = _q(published_db, "SELECT count(*), count(DISTINCT (area_code, breakdown_topic, breakdown)) FROM "
                           "published_value WHERE measure = 'review_meeting_prior_24'")
    assert dup[0][0] == dup[0][1] == 13290
    assert _measure(published_db, "annual_reviews", "review_meeting_prior_24", ENGLAND, 2024) == (126184, None)


def test_header_names():
    assert snake("IncExc20weekRate") == "inc_exc20week_rate"
    assert measure_name("IncExc20weekRate", {"incexc20weekrate": "inc_exc_20week_rate"}) == "inc_exc_20week_rate"
    assert measure_name("TotNoExcEHC") == "tot_no_exc_ehc"
    assert measure_name("PC_plans_issued_20_weeks_ex") == "pc_plans_issued_20_weeks_ex"
    assert measure_name("number_decsion_4weeks") == "number_decision_4weeks"


def _write_camel(path, rate="'  9.434'"):
    header = ["TimePeriod", "TimeIdentifier", "GeographicLevel", "CountryCode", "CountryName", "RegionCode",
              "RegionName", "NewLaCode", "OldLaCode", "LaName", "IncExc20weekEHC", "IncExc20weekRate",
              "NoExc20weekEHC", "NoExc20weekRate", "TotIncExcEHC", "TotNoExcEHC", "InreqEHC"]
    rows = [
        ["2022", "Calendar year", "Local authority", "E92000001", "England", "E12000006", "East of England",
         "E06000056", "823", "Central Bedfordshire", "50", rate, "47", " 12.020", "530", "391", "736"],
        ["2022", "Calendar year", "Local authority", "E92000001", "England", "E12000003", "Yorkshire and The Humber",
         "E10000023", "815", "North Yorkshire", "c", "c", "x", "x", "z", "z", "12"],
        ["2022", "Calendar year", "National", "E92000001", "England", "", "", "", "", "", "30536", "49.2",
         "30536", "49.2", "62108", "62108", "x"],
    ]
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_camelcase_vintage_of_sen2_mi(tmp_path):
    path = _write_camel(tmp_path / "SEN2_MI_LA_2022.csv")
    db = tmp_path / "camel.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 0
    assert _q(db, "SELECT layout, module FROM load_log") == [("dfe_sen2_mi", "sen2_mi")]
    assert _measure(db, "sen2_mi", "inc_exc_20week_rate", CB, 2022) == (9.434, None)
    assert _measure(db, "sen2_mi", "no_exc_20week_rate", CB, 2022) == (12.02, None)
    assert _measure(db, "sen2_mi", "inc_exc_20week_rate", "E06000065", 2022) == (None, "c")
    assert _kpi(db, "ehcp_20wk_excl", CB, 2022) == (47, 391, 12.02, "sen2_mi")
    assert _kpi(db, "ehcp_20wk_incl", ENGLAND, 2022)[2] == 49.2


def test_unreadable_value_quarantines_its_row_with_file_row_column(tmp_path, capsys):
    path = _write_camel(tmp_path / "sen2_mi.csv", rate="nine point four")
    db = tmp_path / "bad.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 1
    out = capsys.readouterr().out
    assert "sen2_mi.csv, row 1, column IncExc20weekRate: not a number or a DfE marker" in out
    assert _q(db, "SELECT count(*) FROM published_value WHERE area_code = ?", [CB]) == [(0,)]
    assert _q(db, "SELECT count(DISTINCT area_code) FROM published_value") == [(2,)]
    assert _q(db, "SELECT row_number, column_name, value FROM quarantine") == [(1, "IncExc20weekRate",
                                                                                  "nine point four")]


def test_reload_is_a_no_op_and_a_revised_file_replaces_rows(tmp_path, capsys):
    path = _write_camel(tmp_path / "sen2_mi.csv")
    db = tmp_path / "x.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 0
    assert etl_main(["load", str(path), "--db", str(db)]) == 0
    assert "already loaded" in capsys.readouterr().out
    _write_camel(path, rate="9.5")
    assert etl_main(["load", str(path), "--db", str(db)]) == 0
    assert _q(db, "SELECT value FROM published_value WHERE measure = 'inc_exc_20week_rate' AND area_code = ?",
              [CB]) == [(9.5,)]
    assert _q(db, "SELECT count(*) FROM load_log") == [(2,)]


def test_release_folder_loads_through_the_cli(published_db):
    logged = dict(_q(published_db, "SELECT source_file, layout FROM load_log"))
    assert logged["timeliness_20_week.csv"] == "dfe_ees"
    assert logged["dfe_sen2_mi_2014-2022.csv"] == "dfe_sen2_mi"
    assert logged["send_tribunals_appeal_rate_2014-2024.csv"] == "dfe_tribunal"
    assert logged["statistical_neighbours.csv"] == "dfe_stat_neighbours"
    assert "data-guidance.txt" not in logged
    assert _q(published_db, "SELECT count(*) FROM quarantine") == [(0,)]
    datasets = {d for (d,) in _q(published_db, "SELECT DISTINCT dataset FROM published_value")}
    assert datasets == {"timeliness_20_week", "requests", "assessments", "annual_reviews", "sen_need_newplans",
                        "ceased_plans", "sen2_mi", "send_tribunal_appeal_rate"}


def test_a_renamed_release_file_is_named_by_its_columns(tmp_path):
    renamed = tmp_path / "download (3).csv"
    shutil.copy(published_plain(PUBLISHED_DATA / "dfe_ehcp" / "annual_reviews.csv.gz", tmp_path), renamed)
    db = tmp_path / "r.duckdb"
    load_paths([renamed], db)
    assert _q(db, "SELECT DISTINCT dataset FROM published_value") == [("annual_reviews",)]


# --- the tribunal table ------------------------------------------------------------------------------------

def test_tribunal_table_matches_areas_by_name_not_by_its_codes(published_db):
    db = published_db
    # The table gives Central Bedfordshire 873 and Cambridgeshire 823; names win, the written code is kept.
    assert _kpi(db, "tribunal_appeal_rate", CB, 2024) == (140, 8246, 1.7, "send_tribunal_appeal_rate")
    assert _q(db, "SELECT DISTINCT source_code, old_la_code FROM published_value "
                  "WHERE dataset = 'send_tribunal_appeal_rate' AND area_code = ?", [CB]) == [("873", "823")]
    assert _q(db, "SELECT DISTINCT source_code FROM published_value "
                  "WHERE dataset = 'send_tribunal_appeal_rate' AND area_code = 'E10000003'") == [("823",)]
    # Nil ('-') is 0; England's total row is national.
    assert _measure(db, "send_tribunal_appeal_rate", "appeals_registered", "E06000001", 2014) == (0, None)
    assert _kpi(db, "tribunal_appeal_rate", ENGLAND, 2023)[:3] == (15615, 617776, 2.5)
    # Dorset's row holds the county before 2019 and Dorset Council after.
    assert _kpi(db, "tribunal_appeal_rate", "E10000009", 2018)[2] == 1.7
    assert _kpi(db, "tribunal_appeal_rate", "E06000059", 2019)[2] == 2.1


# --- codes and reorganisations -----------------------------------------------------------------------------

def test_code_changes_join_into_one_series(published_db):
    # DfE publishes Buckinghamshire as E10000002 in 2019 and 2023-24, E06000060 in 2020-22: one series.
    written = _q(published_db, "SELECT year, new_la_code FROM published_value WHERE dataset = 'timeliness_20_week' "
                               "AND measure = 'plans_issued_den' AND old_la_code = '825' AND breakdown_topic LIKE "
                               "'All %' ORDER BY year")
    assert {c for _, c in written} == {"E10000002", "E06000060"}
    for area in ("E06000060", "E06000065", "E06000066"):  # Buckinghamshire, North Yorkshire, Somerset
        years = [y for (y,) in _q(published_db, "SELECT year FROM published_kpi WHERE kpi_id = 'ehcp_20wk_excl' "
                                                "AND area_code = ? AND year >= 2019 ORDER BY year", [area])]
        assert years == [2019, 2020, 2021, 2022, 2023, 2024], area


def test_splits_are_separate_areas_never_joined(published_db):
    def years(area):
        return [y for (y,) in _q(published_db, "SELECT year FROM published_kpi WHERE kpi_id = 'ehcp_20wk_excl' "
                                               "AND area_code = ? AND year >= 2019 ORDER BY year", [area])]

    assert years("E10000021") == [2019, 2020]            # Northamptonshire
    assert years("E06000061") == years("E06000062") == [2021, 2022, 2023, 2024]
    assert years("E10000006") == [2019, 2020, 2021, 2022]  # Cumbria
    assert years("E06000063") == years("E06000064") == [2023, 2024]
    kinds = dict(_q(published_db, "SELECT successor_code, kind FROM area_lineage WHERE successor_code IN "
                                  "('E06000062', 'E06000064', 'E06000065')"))
    assert kinds == {"E06000062": "split", "E06000064": "split", "E06000065": "recode"}


# --- statistical neighbours --------------------------------------------------------------------------------

CB_NEIGHBOURS = ["Buckinghamshire", "South Gloucestershire", "Cambridgeshire", "Hampshire", "Wiltshire",
                 "Oxfordshire", "West Sussex", "Bracknell Forest", "West Berkshire", "Hertfordshire"]


def test_statistical_neighbours_stored_as_a_dated_set(published_db):
    sets = _q(published_db, "SELECT set_id, effective_from, areas FROM stat_neighbour_set")
    assert len(sets) == 1 and str(sets[0][1]) == "2023-04-01" and sets[0][2] == 153
    names = [n for (n,) in _q(published_db, "SELECT neighbour_name FROM stat_neighbour WHERE area_code = ? "
                                            "ORDER BY neighbour_rank", [CB])]
    assert names == CB_NEIGHBOURS
    # Names written differently from DfE's release resolve to the right areas.
    assert _q(published_db, "SELECT DISTINCT neighbour_code FROM stat_neighbour WHERE neighbour_name IN "
                            "('Bedford Borough', 'Durham') ORDER BY 1") == [("E06000047",), ("E06000055",)]


def _neighbour_file(path, rows):
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        csv.writer(fh).writerows(rows)
    return path


def test_a_later_neighbour_list_is_added_beside_the_old_one(published_db, tmp_path):
    db = tmp_path / "sn.duckdb"
    shutil.copy(published_db, db)
    rows = list(csv.reader(io.StringIO(published_text(PUBLISHED_DATA / "statistical_neighbours.csv.gz"))))
    col = rows[0].index("Central Bedfordshire")
    rows[1][col], rows[2][col] = rows[2][col], rows[1][col]  # a new list: first two neighbours swapped
    later = _neighbour_file(tmp_path / "statistical_neighbours_2025-09.csv", rows)
    assert etl_main(["load", str(later), "--db", str(db)]) == 0
    sets = _q(db, "SELECT effective_from FROM stat_neighbour_set ORDER BY 1")
    assert [str(d) for (d,) in sets] == ["2023-04-01", "2025-09-01"]
    firsts = _q(db, "SELECT s.effective_from, n.neighbour_name FROM stat_neighbour n JOIN stat_neighbour_set s "
                    "USING (set_id) WHERE n.area_code = ? AND n.neighbour_rank = 1 ORDER BY 1", [CB])
    assert [n for _, n in firsts] == ["Buckinghamshire", "South Gloucestershire"]


def test_unknown_neighbour_names_are_quarantined(tmp_path):
    rows = list(csv.reader(io.StringIO(published_text(PUBLISHED_DATA / "statistical_neighbours.csv.gz"))))
    col = rows[0].index("Central Bedfordshire")
    rows[3][col] = "Atlantis"
    path = _neighbour_file(tmp_path / "neighbours.csv", rows)
    db = tmp_path / "q.duckdb"
    assert etl_main(["load", str(path), "--db", str(db)]) == 1
    assert _q(db, "SELECT row_number, column_name, value, reason FROM quarantine") == [
        (3, "Central Bedfordshire", "Atlantis", "neighbour name not recognised")]
    assert _q(db, "SELECT count(*) FROM stat_neighbour WHERE area_code = ?", [CB]) == [(9,)]

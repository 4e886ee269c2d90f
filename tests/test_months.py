"""etl/months.py: 'YYYY-MM' periods, month indexes and their first and last days, across year boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from etl import months


@pytest.mark.parametrize(("period", "expected"), [("2023-01", 2023 * 12), ("2023-12", 2023 * 12 + 11),
                                                  ("2024-01", 2024 * 12), ("0001-01", 12)])
def test_index_counts_months_as_one_integer(period, expected):
    assert months.index(period) == expected
    assert months.period_at(expected) == period


def test_spaces_around_a_period_are_ignored():
    assert months.parse(" 2023-07 ") == (2023, 7)


def test_index_of_a_date_is_the_index_of_its_month():
    assert months.index(dt.date(2023, 12, 31)) == months.index("2023-12")
    assert months.index(dt.datetime(2024, 1, 1, 23, 59)) == months.index("2024-01")
    assert months.period_of(dt.date(2024, 2, 29)) == "2024-02"


@pytest.mark.parametrize("bad", ["2023-13", "2023-00", "2023-7", "23-07", "2023/07", "", None, 202307])
def test_parse_refuses_what_is_not_a_period(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        months.parse(bad)


@pytest.mark.parametrize(("period", "step", "expected"), [
    ("2023-11", 3, "2024-02"), ("2024-02", -3, "2023-11"), ("2023-12", 1, "2024-01"), ("2024-01", -1, "2023-12"),
    ("2023-07", -12, "2022-07"), ("2023-07", 0, "2023-07"), ("2019-01", 72, "2025-01"),
])
def test_add_crosses_year_boundaries(period, step, expected):
    assert months.add(period, step) == expected


def test_count_includes_both_ends():
    assert months.count("2023-02", "2024-01") == 12
    assert months.count("2023-12", "2024-01") == 2
    assert months.count("2024-01", "2024-01") == 1
    assert months.count("2024-02", "2024-01") == 0


@pytest.mark.parametrize(("period", "first", "last"), [
    ("2023-12", dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
    ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
    ("2023-02", dt.date(2023, 2, 1), dt.date(2023, 2, 28)),
    ("2024-04", dt.date(2024, 4, 1), dt.date(2024, 4, 30)),
])
def test_first_and_last_day(period, first, last):
    assert months.first_day(period) == first
    assert months.last_day(period) == last
    assert months.first_day(months.index(period)) == first
    assert months.last_day(months.index(period)) == last


def test_month_start_moves_a_date_to_a_month_first_day():
    assert months.month_start(dt.date(2023, 12, 18)) == dt.date(2023, 12, 1)
    assert months.month_start(dt.date(2023, 12, 18), 1) == dt.date(2024, 1, 1)
    assert months.month_start(dt.date(2024, 1, 31), -1) == dt.date(2023, 12, 1)
    assert months.month_start(dt.date(2019, 1, 1), 72) == dt.date(2025, 1, 1)


def test_label_and_number_are_english_month_names():
    assert months.label("2023-07") == "July 2023"
    assert months.label("2024-01") == "January 2024"
    assert months.number("february") == 2
    assert months.number(" DECEMBER ") == 12
    with pytest.raises(ValueError, match="month name"):
        months.number("Febuary")

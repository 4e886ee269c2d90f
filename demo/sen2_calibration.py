"""What the demo's SEN2 simulation is calibrated to: Central Bedfordshire's published figures (DfE's EHC plans
release) and the modelling assumptions chosen so that those figures come out (none of them published; each
documented here).
"""

from __future__ import annotations

SCALES: dict[str, int] = {"la": 1, "region": 10, "england": 150}  # size relative to Central Bedfordshire
DEFAULT_SEED = 20230131  # the day Central Bedfordshire's APP was approved
LEA = "823"  # Central Bedfordshire's old LA code
CENSUS_DAY = (1, 18)  # SEN2 census taken as 18 January each year (brief; real dates vary by a few days)
FUTURE_MONTHS = 24  # simulate this far past the export date, then censor: gives a realistic pending stock

# ---------------------------------------------------------------------------------------------------------
# Calibration targets: Central Bedfordshire's published figures (DfE "EHC plans" 2025 release)
# ---------------------------------------------------------------------------------------------------------
REQUESTS_RECEIVED = {2019: 375, 2020: 478, 2021: 618, 2022: 736, 2023: 909, 2024: 944}
PLANS_ISSUED = {2019: 206, 2020: 324, 2021: 474, 2022: 530, 2023: 721, 2024: 649}
PLANS_ISSUED_NO_EXCEPTION = {2019: 205, 2020: 268, 2021: 401, 2022: 391, 2023: 583, 2024: 555}
PCT_20WK_INCL = {2019: 88.3, 2020: 51.2, 2021: 10.8, 2022: 9.4, 2023: 27.5, 2024: 42.5}
PCT_20WK_EXCL = {2019: 88.8, 2020: 61.9, 2021: 12.7, 2022: 12.0, 2023: 33.4, 2024: 48.8}
PLANS_HELD_JAN = {2019: 1747, 2020: 1833, 2021: 2105, 2022: 2546, 2023: 2919, 2024: 3541, 2025: 4035}
REQUEST_DECISION_6WK_PCT_2024 = 92.9
AR_DECISION_4WK_PCT_2024 = 50.8

# ---------------------------------------------------------------------------------------------------------
# Modelling assumptions (not published; chosen so the published figures above come out, and documented here)
# ---------------------------------------------------------------------------------------------------------
# Share of non-exception plans issued within 20 weeks at the start and end of each year (linear in between,
# rescaled to the published yearly rate): COVID collapse in 2020, recovery plan working through 2023.
ONTIME_RAMP = {2019: (0.90, 0.87), 2020: (0.88, 0.36), 2021: (0.15, 0.11), 2022: (0.10, 0.14),
               2023: (0.10, 0.55), 2024: (0.45, 0.53)}
# Mean days beyond 20 weeks for late plans, by issue year (exceptions run 30% longer).
LATE_EXCESS_DAYS = {2019: 30, 2020: 90, 2021: 35, 2022: 70, 2023: 65, 2024: 70}
# Share of decisions whether to assess made within 6 weeks, by year of receipt (published 2024: 92.9%).
DECISION_6WK = {2019: 0.86, 2020: 0.80, 2021: 0.66, 2022: 0.69, 2023: 0.91, 2024: 0.935}
# Assessments ending in a decision not to issue (per plan issued) and share notified within 16 weeks.
NOT_ISSUE_RATE = {2019: 0.05, 2020: 0.04, 2021: 0.04, 2022: 0.045, 2023: 0.05, 2024: 0.065}
NOT_ISSUE_16WK = {2019: 0.85, 2020: 0.60, 2021: 0.30, 2022: 0.30, 2023: 0.40, 2024: 0.45}
ASSESS_WITHDRAWN_RATE = 0.015  # assessments withdrawn (per plan issued)
REQUEST_WITHDRAWN_SHARE = 0.12  # of requests not going to assessment, share withdrawn before a decision
MIN_NOT_ASSESSED_SHARE = 0.04  # floor on refused + withdrawn requests per month
# Annual reviews: share of meetings held late (>12 months after the last), decisions within 4 weeks, and
# mean extra days for late decisions; by year (2024 published: 50.8% within 4 weeks).
REVIEW_LATE = {2019: 0.10, 2020: 0.30, 2021: 0.30, 2022: 0.28, 2023: 0.20, 2024: 0.15}
REVIEW_DECISION_4WK = {2019: 0.72, 2020: 0.60, 2021: 0.33, 2022: 0.30, 2023: 0.42, 2024: 0.52}
REVIEW_DECISION_TAIL_DAYS = {2019: 30, 2020: 45, 2021: 85, 2022: 95, 2023: 75, 2024: 48}
REVIEW_DECISION_LOST = 0.01  # decisions never recorded (outstanding at export whatever the meeting date)

SEN_TYPES = ("ASD", "SLCN", "SEMH", "MLD", "SPLD", "SLD", "PD", "PMLD", "HI", "VI", "MSI", "OTH", "DS")
SEN_WEIGHTS = (0.27, 0.165, 0.19, 0.10, 0.065, 0.04, 0.03, 0.01, 0.01, 0.006, 0.004, 0.02, 0.015)
ETHNICITIES = ("WBRI", "WIRI", "WIRT", "WOTH", "WROM", "MWBC", "MWBA", "MWAS", "MOTH", "AIND", "APKN",
               "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT")
ETHNICITY_WEIGHTS = (0.775, 0.004, 0.004, 0.045, 0.003, 0.022, 0.007, 0.014, 0.022, 0.012, 0.010,
                     0.005, 0.007, 0.007, 0.013, 0.003, 0.002, 0.007, 0.010, 0.028)
# Age (whole years) at request: mostly 2-16 (DfE request counts by age); at most 23, so that a plan is always
# issued before the young person's 25th birthday.
AGE_WEIGHTS = (1, 2, 7, 12, 10, 8, 6.5, 6.5, 6, 5.5, 5, 5, 5, 5, 4.5, 4, 2.5, 1.5, 1, 0.5, 0.3, 0.2, 0.15)
# Who asks for an assessment, as shares of requests.
REQUEST_SOURCES = ("Parent", "School", "Early years setting", "Young person", "Health", "Social care", "Other")
REQUEST_SOURCE_WEIGHTS = (0.46, 0.33, 0.10, 0.03, 0.04, 0.02, 0.02)

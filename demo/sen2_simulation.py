"""The statutory EHCP process simulated for one local area, month by month: requests, decisions whether to assess
(6 weeks), assessments, final plans (20 weeks), annual reviews (12 months, decision within 4 weeks) and ceasing,
calibrated to Central Bedfordshire's published figures (demo/sen2_calibration.py).

It simulates past the export date and then censors at it, as a case-system extract would look: anything that has
not happened yet is blank (pending). Everything is vectorised with numpy (no per-row Python loops), so england scale
(~1M requests) runs in seconds. The modules are built from the result by demo/sen2_modules.py and
demo/sen2_people.py.
"""

from __future__ import annotations

import numpy as np

from demo.day_numbers import (
    EPOCH,
    NA,
    day_number,
    january_of,
    month_first_day,
    month_in_year,
    month_of_day,
    weekday_back,
    weekday_in_month,
    year_of_day,
    year_of_month,
)
from demo.sampling import by_year, choice, pick_exact
from demo.sen2_calibration import (
    AGE_WEIGHTS,
    ASSESS_WITHDRAWN_RATE,
    CENSUS_DAY,
    DECISION_6WK,
    FUTURE_MONTHS,
    LATE_EXCESS_DAYS,
    LEA,
    MIN_NOT_ASSESSED_SHARE,
    NOT_ISSUE_16WK,
    NOT_ISSUE_RATE,
    ONTIME_RAMP,
    PCT_20WK_EXCL,
    PCT_20WK_INCL,
    PLANS_HELD_JAN,
    PLANS_ISSUED,
    PLANS_ISSUED_NO_EXCEPTION,
    REQUEST_WITHDRAWN_SHARE,
    REQUESTS_RECEIVED,
    REVIEW_DECISION_4WK,
    REVIEW_DECISION_LOST,
    REVIEW_DECISION_TAIL_DAYS,
    REVIEW_LATE,
    SCALES,
)
from demo.sen2_files import blade_dates, parse_start
from demo.sen2_modules import assessment_module, plan_modules, requests_module
from demo.sen2_people import person_module
from etl.months import index


class Simulation:
    """One run: builds every module as a dict of column arrays. Dates are int day numbers (NA = none)."""

    def __init__(self, seed: int, start: str, months: int, scale: str, factor: float | None = None,
                 lea: str = LEA, pct_shift: float = 0.0):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; expected one of {sorted(SCALES)}")
        if isinstance(months, bool) or not isinstance(months, int | np.integer) or months < 1:
            raise ValueError(f"months must be a positive integer, got {months!r}")
        parse_start(start)
        if index(start) + months > index("2100-12"):
            raise ValueError("window extends past 2100")
        self.seed = int(seed)
        self.scale_name = scale
        self.scale = SCALES[scale] if factor is None else float(factor)
        self.lea = lea
        self.pct_shift = float(pct_shift)  # an area's own timeliness: points added to the 20-week rates
        self.s_mi = index(start) - index(EPOCH)  # month indexes here count from 1970-01 (demo/day_numbers.py)
        self.e_mi = self.s_mi + int(months)
        self.S = int(month_first_day(self.s_mi))
        self.E = int(month_first_day(self.e_mi))  # export date: nothing on or after it has happened

    def _pct(self, table: dict[int, float], year) -> float:
        """A published percentage for the year, moved by this area's shift (kept within 1-99%)."""
        return float(np.clip(float(by_year(table, year)) + self.pct_shift, 1.0, 99.0))

    def rng(self, key: int) -> np.random.Generator:
        """Independent stream per component, so tuning one part does not reshuffle the others."""
        return np.random.default_rng([self.seed, key])

    # -- monthly volumes ----------------------------------------------------------------------------------
    def _monthly_counts(self, rng, table, season, mi_lo, mi_hi):
        """Counts per month for months [mi_lo, mi_hi): yearly totals = table[year] x scale (pro rata for
        partial years), spread by a seasonal profile and the local growth trend."""
        mis = np.arange(mi_lo, mi_hi)
        years = year_of_month(mis)
        counts = np.zeros(len(mis), dtype=np.int64)
        season = np.asarray(season, dtype=float)
        for y in np.unique(years):
            sel = years == y
            g = 0.5 * np.log(by_year(table, y + 1) / by_year(table, y - 1))
            w_all = season * np.exp(g * (np.arange(12) - 5.5) / 12)
            w_in = w_all[month_in_year(mis[sel])]
            n = int(round(float(by_year(table, y)) * self.scale * w_in.sum() / w_all.sum()))
            counts[sel] = rng.multinomial(n, w_in / w_in.sum())
        return mis, counts

    @staticmethod
    def _days_in_months(rng, mis, counts):
        m = np.repeat(mis, counts)
        first = month_first_day(m)
        length = month_first_day(m + 1) - first
        return first + np.floor(rng.random(len(m)) * length).astype(np.int64)

    @staticmethod
    def _decision_lag(rng, received, max_lag):
        """Days from request to the decision whether to assess (6-week compliance varies by year)."""
        n = len(received)
        q = by_year(DECISION_6WK, year_of_day(received))
        on = rng.random(n) < q
        late = 43 + np.minimum(np.floor(rng.exponential(24, n)), 75).astype(np.int64)
        lag = np.where(on, rng.integers(12, 43, n), late)
        lag = np.clip(np.minimum(lag, max_lag), 3, None)
        return weekday_back(received + lag) - received

    # -- assessment track: issued plans, not issued, withdrawn --------------------------------------------
    def assessment_track(self):
        rng = self.rng(1)
        lo, hi = self.s_mi, self.e_mi + FUTURE_MONTHS
        plan_season = (0.95, 1.0, 1.05, 0.95, 1.0, 1.05, 1.1, 0.9, 0.9, 1.0, 1.05, 0.95)
        mis, counts = self._monthly_counts(rng, PLANS_ISSUED, plan_season, lo, hi)
        issue = weekday_in_month(self._days_in_months(rng, mis, counts))
        issue.sort()
        n = len(issue)
        year = year_of_day(issue)
        frac = (issue - month_first_day(january_of(year))) / 365.25
        exc = np.zeros(n, dtype=bool)
        ontime = np.zeros(n, dtype=bool)
        for y in np.unique(year):
            idx = np.flatnonzero(year == y)
            ny = len(idx)
            n_exc = int(round(ny * (1 - by_year(PLANS_ISSUED_NO_EXCEPTION, y) / by_year(PLANS_ISSUED, y))))
            w = np.ones(ny)
            if y == 2020:  # COVID-19 exceptions (1 May - 25 Sep 2020) land on plans issued from June
                w[issue[idx] >= day_number(2020, 6, 1)] = 3.0
            exc[idx] = pick_exact(rng, w, n_exc)
            ne = idx[~exc[idx]]
            k_ne = int(round(len(ne) * self._pct(PCT_20WK_EXCL, y) / 100))
            a, b = ONTIME_RAMP.get(int(y), ONTIME_RAMP[2019] if y < 2019 else ONTIME_RAMP[2024])
            ontime[ne] = pick_exact(rng, a + (b - a) * frac[ne], k_ne)
            k_all = int(round(ny * self._pct(PCT_20WK_INCL, y) / 100))
            ex = idx[exc[idx]]
            ontime[ex] = pick_exact(rng, np.ones(len(ex)), max(0, k_all - k_ne))
        d = np.empty(n, dtype=np.int64)
        d[ontime] = 140 - np.minimum(np.floor(rng.gamma(1.4, 13.0, ontime.sum())), 80).astype(np.int64)
        late = ~ontime
        mean = by_year(LATE_EXCESS_DAYS, year[late]) * np.where(exc[late], 1.3, 1.0)
        d[late] = 141 + np.minimum(np.floor(rng.exponential(1.0, late.sum()) * mean), 560).astype(np.int64)
        plans = {"received": issue - d, "outcome": np.full(n, "Y"), "outcome_date": issue,
                 "week20": exc.astype(np.int64)}

        # Decisions not to issue (N) and assessments withdrawn (W), by month of outcome.
        not_issue = {y: PLANS_ISSUED[y] * NOT_ISSUE_RATE[y] for y in PLANS_ISSUED}
        mis, counts = self._monthly_counts(rng, not_issue, plan_season, lo, hi)
        n_date = weekday_in_month(self._days_in_months(rng, mis, counts))
        on16 = rng.random(len(n_date)) < by_year(NOT_ISSUE_16WK, year_of_day(n_date))
        dn = np.where(on16, rng.integers(56, 113, len(n_date)),
                      113 + np.minimum(np.floor(rng.exponential(70, len(n_date))), 450).astype(np.int64))
        withdrawn = {y: PLANS_ISSUED[y] * ASSESS_WITHDRAWN_RATE for y in PLANS_ISSUED}
        mis, counts = self._monthly_counts(rng, withdrawn, plan_season, lo, hi)
        w_date = weekday_in_month(self._days_in_months(rng, mis, counts))
        dw = rng.integers(45, 250, len(w_date))
        track = {
            "received": np.concatenate((plans["received"], n_date - dn, w_date - dw)),
            "outcome": np.concatenate((plans["outcome"], np.full(len(n_date), "N"), np.full(len(w_date), "W"))),
            "outcome_date": np.concatenate((issue, n_date, w_date)),
            "week20": np.concatenate((plans["week20"], np.zeros(len(n_date) + len(w_date), dtype=np.int64))),
        }
        dur = track["outcome_date"] - track["received"]
        track["decision"] = track["received"] + self._decision_lag(rng, track["received"], dur - 14)
        keep = track["received"] < self.E
        return {k: v[keep] for k, v in track.items()}

    # -- requests refused / withdrawn before a decision ---------------------------------------------------
    def not_assessed(self, track_received):
        """Requests that never reach assessment, sized so requests received per month hit the targets."""
        rng = self.rng(2)
        req_season = (1.0, 1.05, 1.1, 0.9, 1.05, 1.15, 1.15, 0.55, 0.85, 1.05, 1.15, 0.95)
        mis = np.arange(self.s_mi, self.e_mi)
        years = year_of_month(mis)
        target = np.zeros(len(mis))
        for y in np.unique(years):
            sel = years == y
            g = 0.5 * np.log(by_year(REQUESTS_RECEIVED, y + 1) / by_year(REQUESTS_RECEIVED, y - 1))
            w_all = np.asarray(req_season) * np.exp(g * (np.arange(12) - 5.5) / 12)
            target[sel] = by_year(REQUESTS_RECEIVED, y) * self.scale * w_all[month_in_year(mis[sel])] / w_all.sum()
        off = month_of_day(track_received) - self.s_mi
        have = np.bincount(off[(off >= 0) & (off < len(mis))], minlength=len(mis))
        raw = np.maximum(target - have, MIN_NOT_ASSESSED_SHARE * target)
        counts = np.zeros(len(mis), dtype=np.int64)
        for y in np.unique(years):
            sel = years == y
            total = int(round(max(target[sel].sum() - have[sel].sum(), MIN_NOT_ASSESSED_SHARE * target[sel].sum())))
            counts[sel] = rng.multinomial(total, raw[sel] / raw[sel].sum())
        received = self._days_in_months(rng, mis, counts)
        n = len(received)
        wd = rng.random(n) < REQUEST_WITHDRAWN_SHARE
        lag_n = self._decision_lag(rng, received, np.full(n, 400))
        lag_w = weekday_back(received + rng.integers(7, 60, n)) - received
        return {"received": received, "outcome": np.where(wd, "W", "N"),
                "decision": received + np.where(wd, lag_w, lag_n)}

    # -- legacy stock of plans issued before the window ---------------------------------------------------
    def stock_target(self, day: int) -> float:
        """Plans held on a date: published January figures interpolated (log-linear outside 2019-2025)."""
        ys = sorted(PLANS_HELD_JAN)
        xs = np.array([day_number(y, *CENSUS_DAY) for y in ys], dtype=float)
        ls = np.log(np.array([PLANS_HELD_JAN[y] for y in ys], dtype=float))
        if day < xs[0]:
            v = ls[0] + (ls[1] - ls[0]) / (xs[1] - xs[0]) * (day - xs[0])
        elif day > xs[-1]:
            v = ls[-1] + (ls[-1] - ls[-2]) / (xs[-1] - xs[-2]) * (day - xs[-1]) * 0.5
        else:
            v = np.interp(day, xs, ls)
        return float(np.exp(v)) * self.scale

    def legacy(self):
        """Plans issued before the window and still held at its start (requests with outcome H)."""
        rng = self.rng(3)
        n = int(round(self.stock_target(self.S)))
        age_w = np.array([0, 1.0, 1.2, 1.4, 1.6] + [5.8] * 6 + [7.4] * 5 + [6.5, 5.5, 4.5, 3.5] + [1.2, 0.8, 0.5,
                                                                                                     0.3, 0.2])
        age = rng.choice(len(age_w), size=n, p=age_w / age_w.sum()) + rng.random(n)
        birth = self.S - np.floor(age * 365.25).astype(np.int64)
        hi = self.S - 20
        lo = np.minimum(np.maximum(birth + 400, day_number(2006, 6, 1)), hi - 30)
        start = lo + np.floor((hi - lo) * rng.random(n) ** 0.55).astype(np.int64)
        start = np.minimum(weekday_back(np.maximum(start, lo)), hi)
        d = 100 + np.floor(rng.gamma(2.0, 40.0, n)).astype(np.int64)
        received = np.maximum(np.maximum(start - d, birth + 30), day_number(2006, 1, 3))
        decision = weekday_back(received + np.minimum(rng.integers(20, 60, n), (start - received) // 2 + 1))
        decision = np.maximum(np.minimum(decision, start - 1), received)
        return {"received": received, "decision": decision, "start": start, "birth": birth}

    # -- ceasing, calibrated to plans held each January --------------------------------------------------
    def ceases(self, start, birth):
        rng = self.rng(4)
        n = len(start)
        cease = np.full(n, NA, dtype=np.int64)
        reason = np.zeros(n, dtype=np.int64)
        bday25 = birth + np.floor(25 * 365.25).astype(np.int64)
        y0 = year_of_day(np.array([self.S]))[0]
        points = [self.S] + [day_number(y, *CENSUS_DAY) for y in range(y0, y0 + 200)
                             if self.S < day_number(y, *CENSUS_DAY)]
        points = [p for i, p in enumerate(points) if i == 0 or points[i - 1] < self.E]
        for a, b in zip(points[:-1], points[1:], strict=True):
            alive = (start <= a) & (cease == NA)
            issued_in = (start > a) & (start <= b)
            in_range = day_number(2019, *CENSUS_DAY) <= b <= day_number(2025, *CENSUS_DAY) + 1
            if in_range:
                need = int(alive.sum() + issued_in.sum() - round(self.stock_target(b)))
            else:  # outside the published years: a steady 4.5% a year
                need = int(round(0.045 * alive.sum() * (b - a) / 365.25))
            forced = (start <= b) & (cease == NA) & (bday25 <= b)  # plans end at 25 (reason 1)
            cease[forced] = np.maximum(bday25[forced], np.maximum(a, start[forced]) + 1)
            reason[forced] = 1
            rest = need - int(forced.sum())
            cand = np.flatnonzero(alive & ~forced)
            if rest > 0 and len(cand):
                age = (a - birth[cand]) / 365.25
                w = np.select([age < 5, age < 11, age < 16, age < 17, age < 18, age < 19, age < 23],
                              [0.6, 0.45, 0.55, 1.5, 2.0, 3.5, 5.0], 8.0)
                chosen = cand[pick_exact(rng, w, rest)]
                cease[chosen] = a + 1 + np.floor(rng.random(len(chosen)) * (b - a)).astype(np.int64)
        ceased = cease != NA
        cease[ceased] = weekday_back(cease[ceased])
        cease[ceased] = np.maximum(cease[ceased], start[ceased] + 1)
        age = (cease - birth) / 365.25
        pick = rng.random(n)

        def draw(codes, probs):
            return np.asarray(codes)[np.searchsorted(np.cumsum(probs) / np.sum(probs), pick, side="right")]

        old = draw((1, 2, 3, 4, 5, 6, 7, 9), (0.30, 0.08, 0.17, 0.22, 0.10, 0.05, 0.03, 0.05))
        mid = draw((2, 3, 4, 5, 6, 7, 9), (0.25, 0.10, 0.20, 0.20, 0.08, 0.07, 0.10))
        young = draw((2, 5, 7, 8, 9), (0.40, 0.36, 0.13, 0.01, 0.10))
        chosen_reason = np.where(age >= 19, old, np.where(age >= 16, mid, young))
        reason = np.where(ceased & (reason == 0), chosen_reason, reason)
        reason[~ceased] = 0
        after = cease >= self.E  # not happened yet at export
        cease[after] = NA
        reason[after] = 0
        return cease, reason

    # -- annual reviews -----------------------------------------------------------------------------------
    def reviews(self, start, cease):
        """One row per annual review cycle: meetings ~12-monthly (some late), decisions within 4 weeks for a
        varying share. Keeps the last meeting before the window (for 'overdue' at its start) and all later ones;
        plans without a meeting yet get one row with a blank meeting."""
        rng = self.rng(5)
        n = len(start)
        end = np.where(cease == NA, self.E, np.minimum(cease, self.E))
        rows_plan, rows_meet = [], []
        prev = start.copy()
        last_before = np.full(n, NA, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        while alive.any():
            idx = np.flatnonzero(alive)
            due_year = year_of_day(prev[idx] + 365)
            late = rng.random(len(idx)) < by_year(REVIEW_LATE, due_year)
            gap = np.where(late, 366 + np.floor(rng.exponential(70, len(idx))).astype(np.int64),
                           365 - np.minimum(np.floor(rng.gamma(2.0, 10.0, len(idx))), 70).astype(np.int64))
            meet = weekday_back(prev[idx] + gap)
            ok = meet < end[idx]
            before = ok & (meet < self.S)
            last_before[idx[before]] = meet[before]
            inside = ok & (meet >= self.S)
            rows_plan.append(idx[inside])
            rows_meet.append(meet[inside])
            prev[idx] = meet
            alive[idx[~ok]] = False
        has_before = last_before != NA
        rows_plan.append(np.flatnonzero(has_before))
        rows_meet.append(last_before[has_before])
        plan = np.concatenate(rows_plan)
        meet = np.concatenate(rows_meet)
        none = np.flatnonzero(np.bincount(plan, minlength=n) == 0)
        plan = np.concatenate((plan, none))
        meet = np.concatenate((meet, np.full(len(none), NA, dtype=np.int64)))
        order = np.lexsort((meet, plan))
        plan, meet = plan[order], meet[order]

        m = len(plan)
        has = meet != NA
        my = year_of_day(np.where(has, meet, self.S))
        on4 = rng.random(m) < by_year(REVIEW_DECISION_4WK, my)
        lag = np.where(on4, rng.integers(2, 29, m),
                       29 + np.floor(rng.exponential(1.0, m) * by_year(REVIEW_DECISION_TAIL_DAYS, my)).astype(np.int64))
        decision = np.where(has, weekday_back(meet + lag), NA)
        decision = np.where(has & (decision < meet), meet, decision)
        lost = rng.random(m) < REVIEW_DECISION_LOST
        ceased = cease[plan] != NA
        # A review that leads to ceasing: decision no later than the cease date.
        decision = np.where(has & ceased & (decision > cease[plan]), np.maximum(meet, cease[plan] - 1), decision)
        decision = np.where(lost | (decision >= self.E), NA, decision)
        outcome = choice(rng, ("A", "M"), (0.64, 0.36), m).astype(object)
        # The last decided review before a plan ceased is usually the decision to cease.
        last_row = np.r_[plan[1:] != plan[:-1], True]
        to_cease = last_row & ceased & (decision != NA) & (rng.random(m) < 0.7)
        outcome[to_cease] = "C"
        outcome[decision == NA] = ""
        draft = np.where((outcome == "A") & (decision != NA), weekday_back(decision + rng.integers(2, 15, m)), NA)
        draft = np.where(draft >= self.E, NA, draft)
        return {"plan": plan, "meet": meet, "decision": decision, "outcome": outcome, "draft": draft}

    # -- the whole dataset --------------------------------------------------------------------------------
    def build(self) -> dict[str, dict[str, np.ndarray]]:
        E = self.E
        track = self.assessment_track()
        refused = self.not_assessed(track["received"])
        leg = self.legacy()
        n_t, n_r, n_l = len(track["received"]), len(refused["received"]), len(leg["received"])

        # ---- requests (legacy H, assessment track Y/A, refused N / withdrawn W / awaiting A) ------------
        received = np.concatenate((leg["received"], track["received"], refused["received"]))
        decision = np.concatenate((leg["decision"], track["decision"], refused["decision"]))
        req_out = np.concatenate((np.full(n_l, "H"), np.full(n_t, "Y"), refused["outcome"])).astype(object)
        kind = np.concatenate((np.zeros(n_l, np.int8), np.ones(n_t, np.int8), np.full(n_r, 2, np.int8)))
        a_out = np.concatenate((np.full(n_l, "Y"), track["outcome"], np.full(n_r, ""))).astype(object)
        a_date = np.concatenate((leg["start"], track["outcome_date"], np.full(n_r, NA)))
        week20 = np.concatenate((np.zeros(n_l, np.int64), track["week20"], np.zeros(n_r, np.int64)))
        pending_dec = decision >= E
        req_out[pending_dec] = "A"
        decision = np.where(pending_dec, NA, decision)
        a_pending = (a_date >= E) & (kind == 1)
        a_out[a_pending] = "A"
        a_date = np.where(a_pending, NA, a_date)
        a_out[pending_dec] = ""  # no decision to assess yet: no assessment row

        order = np.lexsort((np.arange(len(received)), received))
        received, decision, req_out, kind, a_out, a_date, week20 = (
            x[order] for x in (received, decision, req_out, kind, a_out, a_date, week20))
        src = np.empty(len(order), dtype=np.int64)
        src[order] = np.arange(len(order))
        leg_rows = src[:n_l]  # legacy request i sits at row leg_rows[i]
        n_req = len(received)
        rid = np.arange(1, n_req + 1)

        # ---- persons: one per request, then link some later requests to an earlier requester ------------
        rng = self.rng(6)
        age_w = np.asarray(AGE_WEIGHTS)
        age_years = rng.choice(len(age_w), size=n_req, p=age_w / age_w.sum()) + rng.random(n_req)
        birth = received - np.floor(age_years * 365.25).astype(np.int64)
        birth[leg_rows] = leg["birth"]
        is_plan = (a_out == "Y") & (a_date != NA)
        plan_rows = np.flatnonzero(is_plan)
        start = a_date[plan_rows]

        # Candidates for a later, second request by the same person: requests refused or withdrawn, and
        # assessments that ended without a plan (e.g. refused at 7, assessed and issued at 9).
        person = np.arange(n_req)
        ended = np.isin(a_out, ["N", "W"]) & (a_date != NA)
        closed = ((kind == 2) & (req_out != "A")) | ended
        first_day = np.where(ended, a_date, decision)
        cand = np.flatnonzero(closed & (age_years <= 20) & (first_day != NA) & (first_day < E - 120))
        n_pairs = min(len(cand), int(round(0.11 * n_req)))
        firsts = rng.permutation(cand)[: int(n_pairs * 1.25)]
        pool = np.setdiff1d(np.flatnonzero(kind != 0), firsts)
        pool_days = received[pool] + rng.random(len(pool))  # fractional day: spreads same-day requests
        order_pool = np.argsort(pool_days, kind="stable")
        pool, pool_days = pool[order_pool], pool_days[order_pool]
        taken = np.zeros(len(pool), dtype=bool)
        todo = firsts
        matched = 0
        for _ in range(6):
            if len(todo) == 0 or matched >= n_pairs:
                break
            target = first_day[todo] + 60 + rng.random(len(todo)) * 700
            j = np.searchsorted(pool_days, target)
            ok = j < len(pool)
            ok[ok] = ~taken[j[ok]]
            cand_f, cand_j = todo[ok], j[ok]
            _, first_idx = np.unique(cand_j, return_index=True)
            first_idx = np.sort(first_idx)[: max(0, n_pairs - matched)]
            f, jj = cand_f[first_idx], cand_j[first_idx]
            taken[jj] = True
            second = pool[jj]
            person[second] = person[f]
            birth[second] = birth[f]
            matched += len(f)
            todo = np.setdiff1d(todo, f)
        cease, reason = self.ceases(start, birth[plan_rows])
        # persontableid in order of first request
        uniq_first, inv = np.unique(person, return_inverse=True)
        first_seen = np.full(len(uniq_first), n_req, dtype=np.int64)
        np.minimum.at(first_seen, inv, np.arange(n_req))
        pid_of = np.empty(len(uniq_first), dtype=np.int64)
        pid_of[np.argsort(first_seen)] = np.arange(1, len(uniq_first) + 1)
        pid = pid_of[inv]
        n_person = len(uniq_first)
        p_birth = np.empty(n_person, dtype=np.int64)
        p_birth[pid - 1] = birth

        tables = {}
        tables["requests"] = requests_module(self, rid, pid, received, decision, req_out, birth)
        assess_rows = np.flatnonzero(a_out != "")
        aid_of_row = np.zeros(n_req, dtype=np.int64)
        aid_of_row[assess_rows] = np.arange(1, len(assess_rows) + 1)
        tables["assessment"] = assessment_module(self, assess_rows, rid, a_out, a_date, week20)
        # plan_rows ascend, and so do their assessment ids: namedplan id k belongs to plan_rows[k-1]
        plan_age = (start - birth[plan_rows]) / 365.25
        rev = self.reviews(start, cease)
        # What the earlier extracts need (demo/history.py): day numbers of requests and of each review row.
        self.history_raw = {"received": received, "plan": rev["plan"], "meet": rev["meet"],
                            "decision": rev["decision"], "start": start[rev["plan"]], "cease": cease[rev["plan"]]}
        tables["namedplan"], tables["plandetail"], tables["activeplans"], tables["placementdetail"], \
            tables["senneed"] = plan_modules(self, plan_rows, aid_of_row, rid, start, cease, reason, birth, plan_age,
                                             rev)
        tables["person"] = person_module(self, n_person, p_birth)
        tables["sen2"] = {
            "sen2tableid": np.array([1]), "collection": np.array(["SEN2"], dtype=object),
            "year": np.array([year_of_day(np.array([E]))[0]]), "referencedate": blade_dates(np.array([E])),
            "sourcelevel": np.array(["L"], dtype=object), "lea": np.array([self.lea], dtype=object),
            "softwarecode": np.array(["SYNTH"], dtype=object), "release": np.array(["1.0"], dtype=object),
            "serialno": np.array(["001"], dtype=object), "datetime": blade_dates(np.array([E])),
            "dmo": np.array([1]), "dco": np.array([1]), "dsco": np.array([1]),
        }
        return tables

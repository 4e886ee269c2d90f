-- Therapy and assessment waiting lists: the local referral-level extract (etl/formats/waits_extract.py) and
-- NHS England's Community Health Services waiting-list workbooks (etl/formats/nhs_chs.py).

-- One row per referral. patient_key is an HMAC-SHA256 of the patient id under the pseudonymisation key;
-- the id itself is never stored. A wait runs from referral_date until the first contact or the removal,
-- whichever comes first (kpi/engine/compute_waits.py).
CREATE TABLE IF NOT EXISTS referral (
    area_code      VARCHAR NOT NULL,   -- the local area the extract came from (ONS code)
    patient_key        VARCHAR NOT NULL,
    service            VARCHAR NOT NULL,   -- SALT | OT | PHYSIO | COMMUNITY_PAEDS | NEURODEVELOPMENTAL | AUDIOLOGY
    referral_date      DATE NOT NULL,
    first_contact_date DATE,               -- NULL while waiting
    removed_date       DATE,               -- NULL while open
    removal_reason     VARCHAR,
    age_years          INTEGER,            -- age at referral
    locality           VARCHAR,
    load_id            INTEGER NOT NULL
);

-- NHS England CHS waiting lists, long form: one row per data month, organisation, service and band.
-- value NULL with marker 'not_submitted' (blank cell) or 'suppressed' (*).
CREATE TABLE IF NOT EXISTS nhs_chs_wait (
    period            DATE NOT NULL,       -- first day of the data month (read from the workbook's titles)
    org_type          VARCHAR NOT NULL,    -- National | Region | ICB | Provider
    org_code          VARCHAR,             -- as published, or filled by name from a later release
    org_code_source   VARCHAR NOT NULL,    -- published | name_match | none
    org_name          VARCHAR NOT NULL,
    service           VARCHAR NOT NULL,    -- NHS's name, with the latest release's capitalisation
    service_key       VARCHAR NOT NULL,    -- lower-case service name: joins the months
    band              VARCHAR NOT NULL,    -- total | 0-1 | >1-2 | >2-4 | >4-12 | >12-18 | >18-52 | >52 | >52-104 | >104
    value             DOUBLE,
    marker            VARCHAR,             -- not_submitted | suppressed
    bands_differ      BOOLEAN,             -- on band 'total': the published bands do not add up to the total
    source_file       VARCHAR NOT NULL,
    load_id           INTEGER NOT NULL
);

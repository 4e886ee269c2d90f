"""The people of the demo's SEN2 extract: names, sex, ethnicity, postcodes, UPNs and ULNs (fake but realistic,
with valid check characters, so that pseudonymisation and identifier detection are exercised on real shapes).
"""

from __future__ import annotations

import numpy as np

from demo.day_numbers import year_of_day
from demo.sampling import choice, unique_ints
from demo.sen2_calibration import ETHNICITIES, ETHNICITY_WEIGHTS
from demo.sen2_files import blade_dates

_M_NAMES = (
    "Oliver George Harry Jack Jacob Noah Charlie Muhammad Thomas Oscar William James Henry Leo Alfie "
    "Joshua Freddie Archie Ethan Isaac Alexander Joseph Edward Samuel Max Daniel Arthur Lucas Mohammed "
    "Logan Theo Harrison Benjamin Mason Sebastian Finley Adam Dylan Zachary Riley Teddy Theodore David "
    "Elijah Jake Toby Louie Reuben Arlo Hugo Luca Jaxon Matthew Harvey Reggie Michael Harley Jude Albert "
    "Tommy Luke Stanley Jenson Frankie Jayden Gabriel Elliot Rory Ronnie Carter Louis Tyler Kai Ryan "
    "Connor Callum Kieran Liam Nathan Jamie Ben Owen Lewis Aaron Bradley Kyle Dominic Patrick Rhys Caleb "
    "Ollie Bobby Mohammad Yusuf Ibrahim Ayaan Arjun Rohan Kacper Jakub Filip Kwame Tobi Chinedu"
).split()
_F_NAMES = (
    "Olivia Amelia Isla Ava Mia Ivy Lily Isabella Rosie Sophia Grace Willow Freya Florence Emily Ella "
    "Poppy Evie Elsie Charlotte Evelyn Sienna Sofia Daisy Phoebe Sophie Alice Harper Matilda Ruby Emilia "
    "Maya Millie Isabelle Eva Luna Jessica Erin Esme Chloe Scarlett Hannah Lucy Holly Megan Lola Aria "
    "Maisie Imogen Layla Zara Georgia Molly Amber Katie Bethany Lauren Abigail Eleanor Harriet Heidi "
    "Lexi Leah Niamh Orla Paige Robyn Summer Tilly Violet Nancy Edith Mabel Rose Bonnie Thea Aisha Fatima "
    "Maryam Zainab Amira Hafsa Anaya Priya Aaliyah Amara Zuzanna Lena Nia Ellie Caitlin Jasmine Kayla"
).split()
_SURNAMES = (
    "Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson Wright "
    "Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill "
    "Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker "
    "Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy "
    "Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman "
    "Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight "
    "Lloyd Butler Russell Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher "
    "Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks "
    "West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan "
    "Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe "
    "Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton "
    "Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop "
    "Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald "
    "Yates Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill "
    "Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rowe "
    "Burke May Pritchard Gilbert Willis Higgins Read Miles Stevenson Stephenson Hammond Arnold Buckley Walters "
    "Hewitt Barber Nelson Slater Austin Sullivan Whitehead Mann Frost Lambert Stephens Blake Akhtar Lynch "
    "Goodwin Barton Woodward Thomson Cunningham Quinn Barnett Baxter Bibi Clayton Nash Greenwood Jennings "
    "Holt Kemp Poole Gallagher Bond Stokes Tucker Davidson Fowler Heath Norman Middleton Lawson Banks French "
    "Stanley Jarvis Gibbs Ferguson Hayward Carroll Douglas Hicks Kowalski Nowak Wisniewski Okafor Adeyemi "
    "Mensah Osei Nguyen Chen Wang Li Zhang Smith-Jones Lloyd-Williams Hughes-Davies"
).split()
_INWARD_LETTERS = np.array(list("ABDEFGHJLNPQRSTUWXYZ"))  # letters used in inward codes
_OUTWARD_LA = ("LU5", "LU6", "LU7", "SG5", "SG15", "SG16", "SG17", "SG18", "SG19", "MK17", "MK43", "MK45")
_REGION_AREAS = {"LU": 7, "MK": 46, "SG": 19, "AL": 10, "CB": 11, "PE": 38, "CO": 16, "CM": 24, "IP": 33,
                 "NR": 35, "SS": 17, "WD": 25, "EN": 11, "HP": 4}
_ENGLAND_AREAS = {**_REGION_AREAS, "B": 99, "M": 90, "L": 40, "LS": 29, "S": 99, "NE": 70, "BS": 49, "SO": 53,
                  "PO": 41, "OX": 49, "RG": 45, "GU": 52, "ME": 20, "CT": 21, "TN": 40, "BN": 45, "NG": 34,
                  "LE": 19, "CV": 47, "DE": 75, "ST": 21, "WV": 16, "WS": 15, "DY": 14, "PR": 26, "BB": 18,
                  "BL": 9, "OL": 16, "SK": 23, "WA": 16, "CH": 66, "HU": 20, "YO": 62, "DN": 41, "HD": 9,
                  "BD": 24, "WF": 17, "DL": 17, "TS": 29, "SR": 8, "DH": 9, "CA": 28, "LA": 23, "EX": 39,
                  "PL": 35, "TQ": 14, "TR": 27, "TA": 24, "BA": 22, "GL": 56, "HR": 9, "WR": 15, "SY": 25,
                  "TF": 13, "NN": 18, "LN": 13, "N": 22, "E": 18, "SE": 28, "SW": 20, "W": 14, "NW": 11}
OTHER_LAS = ("821", "822", "826", "825", "919", "873", "881", "882", "883", "855", "856", "925", "926",
             "928", "931", "935", "202", "304", "330", "340", "350", "380", "800", "908", "937")
_UPN_CHECK = np.array(list("ABCDEFGHJKLMNPQRTUVWXYZ"))


def person_module(sim, n: int, birth: np.ndarray) -> dict[str, np.ndarray]:
    """The person module: one row per child or young person, ``birth`` their day of birth; ``sim`` gives the
    export day, the scale (which postcodes) and the LA (which UPNs)."""
    rng = sim.rng(11)
    E = sim.E
    sex = np.where(rng.random(n) < 0.71, "M", "F").astype(object)
    eth = choice(rng, ETHNICITIES, ETHNICITY_WEIGHTS, n).astype(object)
    male = sex == "M"
    fore = np.where(male, np.asarray(_M_NAMES, dtype=object)[rng.integers(0, len(_M_NAMES), n)],
                    np.asarray(_F_NAMES, dtype=object)[rng.integers(0, len(_F_NAMES), n)])
    sur = np.asarray(_SURNAMES, dtype=object)[rng.integers(0, len(_SURNAMES), n)]

    # Postcodes: outward code of the area + inward 'digit letter letter'; unique where the space allows.
    if sim.scale_name == "la":
        outward = np.asarray(_OUTWARD_LA)
    else:
        areas = _REGION_AREAS if sim.scale_name == "region" else _ENGLAND_AREAS
        outward = np.asarray([f"{a}{d}" for a, top in areas.items() for d in range(1, top + 1)])
    space = len(outward) * 10 * 400
    code = (unique_ints(rng, 0, space, n) if n <= space // 2 else rng.integers(0, space, n))
    inward = (code % 4000)
    postcode = (outward[code // 4000].astype(object) + " " + (inward // 400).astype(str).astype(object)
                + _INWARD_LETTERS[(inward // 20) % 20].astype(object) + _INWARD_LETTERS[inward % 20].astype(object))

    # UPN: check letter + LA (3) + establishment (4) + year allocated (2) + serial (3); valid check letter.
    age_e = (E - birth) / 365.25
    has_upn = ~((age_e < 3.0) | (rng.random(n) < 0.01))
    la = np.full(n, int(sim.lea))
    other = rng.random(n) < 0.15
    la_codes = np.asarray(OTHER_LAS, dtype=np.int64)
    if sim.scale_name != "la":
        la_codes = np.concatenate((la_codes, np.arange(201, 214), np.arange(301, 321), np.arange(800, 897)))
        other = np.ones(n, dtype=bool)
    la[other] = la_codes[rng.integers(0, len(la_codes), other.sum())]
    estab_base = np.asarray([1000, 2000, 3000, 4000, 5200, 7000])
    estab = choice(rng, estab_base, (0.03, 0.50, 0.15, 0.20, 0.07, 0.05), n) + rng.integers(0, 400, n)
    yy = (year_of_day(birth) + 4) % 100
    key = ((la * 10000 + estab) * 100 + yy) * 1000
    serial = rng.integers(0, 1000, n)
    for _ in range(100):
        full = key + serial
        _, first = np.unique(full, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        serial[dup] = rng.integers(0, 1000, dup.sum())
    number = key + serial
    digits = number[:, None] // 10 ** np.arange(11, -1, -1, dtype=np.int64) % 10  # characters 2..13
    check = _UPN_CHECK[(digits * np.arange(2, 14)).sum(axis=1) % 23]
    upn = check.astype(object) + np.char.zfill(number.astype(str), 12).astype(object)
    upn[~has_upn] = ""
    unknown = np.where(age_e < 6, "UN1", "UN2").astype(object)
    unknown[has_upn] = ""

    # ULN: 10 digits with the ESFA mod-11 check digit, for young people 14+ at export.
    has_uln = age_e >= 14
    base = unique_ints(rng, 100_000_000, 1_000_000_000, n)
    bd = base[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64) % 10
    rem = (bd * np.arange(10, 1, -1)).sum(axis=1) % 11
    for _ in range(100):  # remainder 0 would need check digit 10: draw a fresh base
        bad = rem == 0
        if not bad.any():
            break
        fresh = rng.integers(100_000_000, 1_000_000_000, bad.sum())
        base[bad] = fresh
        _, first = np.unique(base, return_index=True)
        dupe = np.ones(n, dtype=bool)
        dupe[first] = False
        base[dupe] = base[dupe] + 1  # nudge rare duplicates, re-checked next round
        bd = base[:, None] // 10 ** np.arange(8, -1, -1, dtype=np.int64) % 10
        rem = (bd * np.arange(10, 1, -1)).sum(axis=1) % 11
    uln = (base * 10 + (10 - rem)).astype(str).astype(object)
    uln[~has_uln] = ""
    return {
        "persontableid": np.arange(1, n + 1), "sen2tableid": np.ones(n, dtype=np.int64),
        "surname": sur, "forename": fore, "personbirthdate": blade_dates(birth), "sex": sex,
        "ethnicity": eth, "postcode": postcode, "upn": upn, "uniquelearnernumber": uln,
        "upnunknown": unknown,
    }

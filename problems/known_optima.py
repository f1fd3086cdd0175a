"""Reference tables for the sphere problems: Thomson energies and Tammes separations.

Plain data (dicts, tuples, frozensets, strings); the module imports nothing (beyond
``__future__``), so that any problem, test or tool can read the tables
cheaply. The computations that verified them used numpy and scipy, outside geograd.

Thomson problem (:data:`THOMSON_ENERGIES`, N = 2..100)
    The smallest known energy E(N) = Σ_{i<j} 1/|x_i - x_j| of N unit charges on
    the unit sphere, nine decimals, exactly as published in Wikipedia's "Thomson
    problem" table ("Configurations of smallest known energy"), whose values for
    N >= 7 are the putative global minima of Wales & Ulker (2006) and Wales,
    McKay & Altschuler (2009), also listed by the Cambridge Cluster Database
    (:data:`SOURCES`). N = 2, 3, 4, 5, 6 and 12 are proven optimal
    (:data:`PROVEN_OPTIMAL_THOMSON`); the rest are best known, putative minima.

    How the digits were obtained (no internet on the machine that built this
    table): two independent transcriptions of the Wikipedia table found in
    public repositories, (a) the HTML table in YCYTHU/YCYTHU.github.io,
    ``_posts/2023-06-01-Thomson-Problem.md`` (commit 0405a32, Dec. 2024; the
    table runs to N = 470), and (b) a C++ array ``answers[101]`` (N = 2..100) in
    another public repository, plus (c) geograd's own table for N = 2..32
    (``problems/thomson.py``, ``KNOWN_ENERGIES``), which agrees with (b) digit
    for digit. (a) and (b) agree for every N in 2..100 except two last digits,
    settled by computation (:data:`THOMSON_NOTES`): N = 11, (a) 40.596450510,
    (b) 40.596450508, computed 40.5964505082; N = 16, (a) 92.911655302, (b)
    92.911655303, computed 92.9116553025. The shipped value is (b)'s in both
    cases, the one that rounds the computed energy correctly. The last digit is
    elsewhere sometimes truncated rather than rounded: compare with an absolute
    tolerance of 1e-8 (:data:`THOMSON_ABS_TOL`).

    Verified by computation, every N: scipy L-BFGS on normalised coordinates
    (x_i / |x_i|, vectorised energy and gradient, gtol 1e-10, then a polish
    from the renormalised point), from uniform random starts (numpy
    ``default_rng``). Run A, seed 1000 + N, restarts until the energy is within
    1e-7 of the table: all 99 N reached, 178 local minimisations in all (at most
    10 for one N). Run B, seed 5000 + N, exactly 100 random starts per N (9,900
    minimisations): no start went below the table (within 1e-7) for any N, and
    every N but 78 was reached again (N = 78: 0 of 100; its basin is rare from
    random starts, it was reached at run A's first start). The lowest energy
    found agrees with the table within 4.4e-9 for every N (N = 96; relative
    2.3e-10 or better, the largest at N = 3, sqrt(3) rounded to 9 decimals).
    :data:`THOMSON_REPRODUCTION` holds, per N, (restarts run A needed, hits out
    of run B's 100, lowest energy found to 10 decimals).

Tammes problem (:data:`TAMMES_DEGREES`, N = 3..40)
    The largest known smallest angular separation, in degrees, of N points on
    the unit sphere: N. J. A. Sloane's tables of spherical codes (packings in
    3 dimensions, with R. H. Hardin, W. D. Smith and others), 7 decimals, the
    last one rounded or truncated, so compare with an absolute tolerance of 1e-7
    degrees (:data:`TAMMES_ABS_TOL_DEG`). N = 3 (120 degrees, the equilateral
    great-circle triangle) is not in Sloane's table and comes from Fejes Tóth
    (1943). Proven optimal: N = 3..14 and N = 24 (:data:`PROVEN_OPTIMAL_TAMMES`,
    who proved which in :data:`TAMMES_PROOFS`); the others are best known.

    How the digits were obtained: two independent transcriptions of Sloane's
    table in public repositories (a Python dict ``SLOANE_DATA``, N = 4..40,
    citing neilsloane.com/packings, and a plotting script's ``angles`` list
    from N = 4 on), identical for N = 4..40. Cross-checks with more digits:
    H. Cohn's table of spherical codes (cohn.mit.edu/?p=232, data set
    hdl.handle.net/1721.1/142661) gives the cosines for N = 7, 8, 9, 10 to 32
    digits (:data:`TAMMES_COSINES_COHN`), and OEIS A383860 the N = 14 angle in
    radians (:data:`TAMMES_RADIANS_OEIS`); both agree with the table to its 7
    decimals and with our computation within 2e-12 degrees. (One other
    repository lists 39.6824560, 38.6770790 and 37.3773682 for N = 27, 28, 30:
    smaller than Sloane's values, which we reproduce; not used.)

    Verified by computation, every N in 3..40: random starts (some relaxed
    first by a log-sum-exp smoothing of max_ij(-log|x_i - x_j|) at s = 4 then
    16) and, every third attempt, perturbations of the best configuration so
    far (Gaussian noise 0.03, 0.1 or 0.3), each polished exactly by
    sequential linear programming on the max-min problem (scipy
    ``linprog``/HiGHS on the linearised separations of the near-active pairs,
    tangent steps in a trust region, renormalisation; stops when the predicted
    gain is below 1e-13 in squared chord). Run A, seed 11000 + N, until the
    table value is reached twice within 1e-6 degrees: every N reached it (the
    first hit took 387 attempts for N = 26, at most 237 for any other N).
    Run B, seed 13000 + N, exactly 100 attempts per N (3,800 in all): none
    exceeded the table (by more than 1e-6 degrees) for any N, and every N but
    31 was reached again (N = 31: 0 of 100, best
    8.4e-5 degrees below; reached in run A). The computed angles agree with the
    table within 6e-8 degrees (its rounding). (SLSQP on the angle
    constraints from a log-sum-exp continuation was tried first and stalls at
    non-optimal points for N = 13 and 14; the LP polish does not.)
    :data:`TAMMES_REPRODUCTION` holds, per N, (attempts until run A's first
    hit, how that attempt started, hits out of run B's 100, the computed angle
    to 9 decimals).
"""

from __future__ import annotations

#: Full citations, keyed by the short names used in the provenance fields below.
SOURCES: dict[str, str] = {
    "wikipedia-thomson": (
        'Wikipedia, "Thomson problem", table "Configurations of smallest known energy" '
        "(energies to 9 decimals; cites Wales & Ulker 2006 and Wales, McKay & Altschuler "
        "2009). Transcribed here from two public copies: YCYTHU/YCYTHU.github.io "
        "_posts/2023-06-01-Thomson-Problem.md (commit 0405a32, 2024-12-22) and a C++ "
        "array answers[101] in another public repository."
    ),
    "wales-ulker-2006": (
        "D. J. Wales and S. Ulker, Structure and dynamics of spherical crystals "
        "characterized for the Thomson problem, Phys. Rev. B 74, 212101 (2006)."
    ),
    "wales-mckay-altschuler-2009": (
        "D. J. Wales, H. McKay and E. L. Altschuler, Defect motifs for spherical "
        "topologies, Phys. Rev. B 79, 224115 (2009)."
    ),
    "cambridge-cluster-database": (
        "The Cambridge Cluster Database (D. J. Wales et al., University of Cambridge), "
        "Thomson problem global minima, http://www-wales.ch.cam.ac.uk/CCD.html."
    ),
    "wolfram-thomson-solutions": (
        'Wolfram Demonstrations Project, "Thomson Problem Solutions" (states which N are '
        "solved: 1 to 6 and 12), https://demonstrations.wolfram.com/ThomsonProblemSolutions/."
    ),
    "geograd-thomson": (
        "geograd problems/thomson.py KNOWN_ENERGIES, N = 2..32 (same Wikipedia table, "
        "checked there by 40 L-BFGS starts per N)."
    ),
    "sloane-packings": (
        "N. J. A. Sloane, with the collaboration of R. H. Hardin, W. D. Smith and others, "
        "Tables of spherical codes (packings of N points in 3 dimensions, minimal "
        "separation in degrees), http://neilsloane.com/packings/ . Transcribed here from "
        "two public copies of the table (N = 4..40), identical to 7 decimals."
    ),
    "cohn-spherical-codes": (
        "H. Cohn, Table of spherical codes, data set https://hdl.handle.net/1721.1/142661 "
        "(web page https://cohn.mit.edu/?p=232): cosine of the minimal angle, 32 digits, "
        "rounded up; optimal entries starred."
    ),
    "oeis-a383860": (
        "OEIS A383860, Central angle of the solution of the Tammes problem for 14 points "
        "on the sphere (in radians), https://oeis.org/A383860."
    ),
    "tammes-1930": (
        "P. M. L. Tammes, On the origin of number and arrangement of the places of exit "
        "on the surface of pollen-grains, Recueil des travaux botaniques néerlandais 27 "
        "(1930) 1-84."
    ),
    "fejes-toth-1943": (
        "L. Fejes Tóth, Über die Abschätzung des kürzesten Abstandes zweier Punkte eines "
        "auf einer Kugelfläche liegenden Punktsystems, Jber. Deutsch. Math. Verein. 53 "
        "(1943) 66-68. (N = 3, 4, 6, 12.)"
    ),
    "schutte-van-der-waerden-1951": (
        "K. Schütte and B. L. van der Waerden, Auf welcher Kugel haben 5, 6, 7, 8 oder 9 "
        "Punkte mit Mindestabstand Eins Platz?, Math. Ann. 123 (1951) 96-124. "
        "(N = 5, 7, 8, 9.)"
    ),
    "danzer-1963": (
        "L. Danzer, Endliche Punktmengen auf der 2-Sphäre mit möglichst großem "
        "Minimalabstand, Habilitationsschrift, Göttingen (1963); English translation: "
        "Finite point-sets on S2 with minimum distance as large as possible, Discrete "
        "Math. 60 (1986) 3-66. (N = 10, 11.)"
    ),
    "robinson-1961": (
        "R. M. Robinson, Arrangement of 24 points on a sphere, Math. Ann. 144 (1961) "
        "17-48. (N = 24, the snub cube.)"
    ),
    "musin-tarasov-2012": (
        "O. R. Musin and A. S. Tarasov, The strong thirteen spheres problem, Discrete "
        "Comput. Geom. 48 (2012) 128-141. (N = 13.)"
    ),
    "musin-tarasov-2015": (
        "O. R. Musin and A. S. Tarasov, The Tammes problem for N = 14, Experimental "
        "Math. 24 (2015) 460-468, arXiv:1410.2536. (N = 14.)"
    ),
}

# --------------------------------------------------------------------------- Thomson

#: Smallest known energies E(N) = Σ_{i<j} 1/|x_i - x_j| of N unit charges on the unit
#: sphere, N = 2..100, 9 decimals as published (source: SOURCES["wikipedia-thomson"]).
THOMSON_ENERGIES: dict[int, float] = {
    2: 0.500000000,
    3: 1.732050808,
    4: 3.674234614,
    5: 6.474691495,
    6: 9.985281374,
    7: 14.452977414,
    8: 19.675287861,
    9: 25.759986531,
    10: 32.716949460,
    11: 40.596450508,
    12: 49.165253058,
    13: 58.853230612,
    14: 69.306363297,
    15: 80.670244114,
    16: 92.911655303,
    17: 106.050404829,
    18: 120.084467447,
    19: 135.089467557,
    20: 150.881568334,
    21: 167.641622399,
    22: 185.287536149,
    23: 203.930190663,
    24: 223.347074052,
    25: 243.812760299,
    26: 265.133326317,
    27: 287.302615033,
    28: 310.491542358,
    29: 334.634439920,
    30: 359.603945904,
    31: 385.530838063,
    32: 412.261274651,
    33: 440.204057448,
    34: 468.904853281,
    35: 498.569872491,
    36: 529.122408375,
    37: 560.618887731,
    38: 593.038503566,
    39: 626.389009017,
    40: 660.675278835,
    41: 695.916744342,
    42: 732.078107544,
    43: 769.190846459,
    44: 807.174263085,
    45: 846.188401061,
    46: 886.167113639,
    47: 927.059270680,
    48: 968.713455344,
    49: 1011.557182654,
    50: 1055.182314726,
    51: 1099.819290319,
    52: 1145.418964319,
    53: 1191.922290416,
    54: 1239.361474729,
    55: 1287.772720783,
    56: 1337.094945276,
    57: 1387.383229253,
    58: 1438.618250640,
    59: 1490.773335279,
    60: 1543.830400976,
    61: 1597.941830199,
    62: 1652.909409898,
    63: 1708.879681503,
    64: 1765.802577927,
    65: 1823.667960264,
    66: 1882.441525304,
    67: 1942.122700406,
    68: 2002.874701749,
    69: 2064.533483235,
    70: 2127.100901551,
    71: 2190.649906425,
    72: 2255.001190975,
    73: 2320.633883745,
    74: 2387.072981838,
    75: 2454.369689040,
    76: 2522.674871841,
    77: 2591.850152354,
    78: 2662.046474566,
    79: 2733.248357479,
    80: 2805.355875981,
    81: 2878.522829664,
    82: 2952.569675286,
    83: 3027.528488921,
    84: 3103.465124431,
    85: 3180.361442939,
    86: 3258.211605713,
    87: 3337.000750014,
    88: 3416.720196758,
    89: 3497.439018625,
    90: 3579.091222723,
    91: 3661.713699320,
    92: 3745.291636241,
    93: 3829.844338421,
    94: 3915.309269620,
    95: 4001.771675565,
    96: 4089.154010060,
    97: 4177.533599622,
    98: 4266.822464156,
    99: 4357.139163132,
    100: 4448.350634331,
}

#: Decimals the published energies carry; the last is sometimes truncated.
THOMSON_DECIMALS = 9

#: Absolute tolerance for comparing an energy with the table (its last digit may be
#: truncated rather than rounded: 1e-8, not 5e-10).
THOMSON_ABS_TOL = 1e-8

#: N whose minimum is proven (SOURCES["wolfram-thomson-solutions"]: "only solved for 1
#: to 6 and 12 points"); every other N is a best known value.
PROVEN_OPTIMAL_THOMSON: frozenset[int] = frozenset({2, 3, 4, 5, 6, 12})

#: Source keys (into SOURCES) per N.
THOMSON_PROVENANCE: dict[int, tuple[str, ...]] = {
    n: (("wikipedia-thomson", "geograd-thomson") if n <= 32 else ("wikipedia-thomson",))
    + (
        ("wales-ulker-2006", "wales-mckay-altschuler-2009", "cambridge-cluster-database")
        if n >= 7
        else ()
    )
    for n in range(2, 101)
}

#: Our reproduction per N: (random restarts until the table's energy was reached
#: within 1e-7, run A, seed 1000 + N; hits out of 100 random starts, run B, seed
#: 5000 + N; the lowest energy found in both runs, 10 decimals). numpy/scipy
#: L-BFGS on normalised coordinates; see the module docstring.
THOMSON_REPRODUCTION: dict[int, tuple[int, int, float]] = {
    2: (1, 100, 0.5000000000),
    3: (1, 100, 1.7320508076),
    4: (1, 100, 3.6742346142),
    5: (1, 100, 6.4746914947),
    6: (1, 100, 9.9852813742),
    7: (1, 100, 14.4529774142),
    8: (1, 100, 19.6752878612),
    9: (1, 100, 25.7599865313),
    10: (1, 100, 32.7169494601),
    11: (1, 100, 40.5964505082),
    12: (1, 100, 49.1652530576),
    13: (1, 100, 58.8532306117),
    14: (1, 100, 69.3063632966),
    15: (1, 100, 80.6702441143),
    16: (1, 78, 92.9116553025),
    17: (1, 100, 106.0504048286),
    18: (1, 100, 120.0844674475),
    19: (1, 100, 135.0894675567),
    20: (1, 100, 150.8815683338),
    21: (1, 100, 167.6416223993),
    22: (1, 97, 185.2875361493),
    23: (1, 100, 203.9301906629),
    24: (1, 100, 223.3470740518),
    25: (1, 100, 243.8127602988),
    26: (1, 100, 265.1333263174),
    27: (1, 100, 287.3026150330),
    28: (1, 100, 310.4915423582),
    29: (1, 100, 334.6344399204),
    30: (1, 100, 359.6039459038),
    31: (1, 100, 385.5308380633),
    32: (1, 97, 412.2612746505),
    33: (1, 100, 440.2040574476),
    34: (1, 100, 468.9048532813),
    35: (1, 72, 498.5698724906),
    36: (1, 100, 529.1224083754),
    37: (1, 16, 560.6188877310),
    38: (1, 48, 593.0385035665),
    39: (3, 64, 626.3890090168),
    40: (1, 75, 660.6752788346),
    41: (1, 97, 695.9167443419),
    42: (1, 99, 732.0781075437),
    43: (1, 100, 769.1908464592),
    44: (1, 100, 807.1742630846),
    45: (1, 100, 846.1884010611),
    46: (3, 15, 886.1671136392),
    47: (1, 57, 927.0592706797),
    48: (1, 100, 968.7134553438),
    49: (1, 100, 1011.5571826536),
    50: (1, 100, 1055.1823147263),
    51: (1, 100, 1099.8192903189),
    52: (1, 67, 1145.4189643193),
    53: (1, 70, 1191.9222904162),
    54: (1, 81, 1239.3614747292),
    55: (3, 22, 1287.7727207827),
    56: (5, 15, 1337.0949452757),
    57: (1, 89, 1387.3832292528),
    58: (9, 21, 1438.6182506404),
    59: (10, 32, 1490.7733352787),
    60: (1, 34, 1543.8304009764),
    61: (3, 66, 1597.9418301990),
    62: (4, 36, 1652.9094098983),
    63: (1, 100, 1708.8796815033),
    64: (2, 88, 1765.8025779273),
    65: (1, 93, 1823.6679602639),
    66: (1, 79, 1882.4415253042),
    67: (1, 100, 1942.1227004055),
    68: (1, 70, 2002.8747017487),
    69: (9, 5, 2064.5334832348),
    70: (1, 64, 2127.1009015506),
    71: (1, 96, 2190.6499064258),
    72: (1, 88, 2255.0011909750),
    73: (1, 90, 2320.6338837454),
    74: (2, 33, 2387.0729818383),
    75: (1, 97, 2454.3696890396),
    76: (2, 76, 2522.6748718414),
    77: (1, 98, 2591.8501523539),
    78: (1, 0, 2662.0464745663),
    79: (1, 94, 2733.2483574788),
    80: (1, 71, 2805.3558759812),
    81: (1, 51, 2878.5228296641),
    82: (3, 25, 2952.5696752865),
    83: (3, 22, 3027.5284889211),
    84: (3, 12, 3103.4651244308),
    85: (1, 17, 3180.3614429386),
    86: (2, 13, 3258.2116057128),
    87: (10, 19, 3337.0007500145),
    88: (3, 32, 3416.7201967584),
    89: (4, 46, 3497.4390186247),
    90: (1, 26, 3579.0912227228),
    91: (3, 49, 3661.7136993200),
    92: (2, 36, 3745.2916362407),
    93: (2, 42, 3829.8443384214),
    94: (3, 43, 3915.3092696204),
    95: (2, 58, 4001.7716755650),
    96: (4, 64, 4089.1540100556),
    97: (1, 84, 4177.5335996222),
    98: (5, 50, 4266.8224641563),
    99: (1, 90, 4357.1391631318),
    100: (2, 47, 4448.3506343313),
}

#: Entries whose sources or reproduction differ (every other N: both transcriptions
#: agree and the computation reached the value).
THOMSON_NOTES: dict[int, str] = {
    11: (
        "Wikipedia copy (a) reads 40.596450510, copy (b) and geograd's table "
        "40.596450508; computed minimum 40.5964505082, so 40.596450508 is shipped."
    ),
    16: (
        "Copy (a) reads 92.911655302 (truncated), copy (b) and geograd's table "
        "92.911655303; computed minimum 92.9116553025 (within 1e-8 of both); "
        "92.911655303 is shipped. 22 of run B's 100 starts ended elsewhere (problems/"
        "thomson.py notes the local minimum 92.920353962)."
    ),
    78: (
        "Reached at run A's first start, but in none of run B's 100 random starts "
        "(lowest there 2662.0472133, 7.4e-4 above): a rare basin from random starts."
    ),
}

# ---------------------------------------------------------------------------- Tammes

#: Largest known smallest angular separation (degrees) of N points on the unit
#: sphere, N = 3..40: Sloane's table (7 decimals), N = 3 from Fejes Tóth (1943).
TAMMES_DEGREES: dict[int, float] = {
    3: 120.0,
    4: 109.4712206,
    5: 90.0000000,
    6: 90.0000000,
    7: 77.8695421,
    8: 74.8584922,
    9: 70.5287794,
    10: 66.1468220,
    11: 63.4349488,
    12: 63.4349488,
    13: 57.1367031,
    14: 55.6705700,
    15: 53.6578501,
    16: 52.2443957,
    17: 51.0903285,
    18: 49.5566548,
    19: 47.6919141,
    20: 47.4310362,
    21: 45.6132231,
    22: 44.7401612,
    23: 43.7099642,
    24: 43.6907671,
    25: 41.6344612,
    26: 41.0376616,
    27: 40.6776007,
    28: 39.3551436,
    29: 38.7136512,
    30: 38.5971159,
    31: 37.7098291,
    32: 37.4752140,
    33: 36.2545530,
    34: 35.8077844,
    35: 35.3198076,
    36: 35.1897322,
    37: 34.4224080,
    38: 34.2506607,
    39: 33.4890466,
    40: 33.1583563,
}

#: Decimals the published separations carry (the last rounded or truncated).
TAMMES_DECIMALS = 7

#: Absolute tolerance (degrees) for comparing a separation with the table.
TAMMES_ABS_TOL_DEG = 1e-7

#: N whose tabulated separation is proven optimal.
PROVEN_OPTIMAL_TAMMES: frozenset[int] = frozenset({3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 24})

#: Who proved optimality, per proven N (keys into SOURCES).
TAMMES_PROOFS: dict[int, str] = {
    3: "fejes-toth-1943",
    4: "fejes-toth-1943",
    5: "schutte-van-der-waerden-1951",
    6: "fejes-toth-1943",
    7: "schutte-van-der-waerden-1951",
    8: "schutte-van-der-waerden-1951",
    9: "schutte-van-der-waerden-1951",
    10: "danzer-1963",
    11: "danzer-1963",
    12: "fejes-toth-1943",
    13: "musin-tarasov-2012",
    14: "musin-tarasov-2015",
    24: "robinson-1961",
}

#: Source keys (into SOURCES) per N: the table's digits, then the proof if any.
TAMMES_PROVENANCE: dict[int, tuple[str, ...]] = {
    n: (
        (("fejes-toth-1943",) if n == 3 else ("sloane-packings",))
        + ((TAMMES_PROOFS[n],) if n in TAMMES_PROOFS and n != 3 else ())
    )
    for n in range(3, 41)
}

#: Cosines of the optimal separation with 32 digits (SOURCES["cohn-spherical-codes"]),
#: as strings to keep the digits; an independent check of Sloane's N = 7..10.
TAMMES_COSINES_COHN: dict[int, str] = {
    7: "0.21013831273060308486576530161854",
    8: "0.26120387496374144251476820691706",
    9: "0.33333333333333333333333333333334",
    10: "0.40439432521625075684622475072579",
}

#: The optimal N = 14 separation in radians (SOURCES["oeis-a383860"]).
TAMMES_RADIANS_OEIS: dict[int, str] = {14: "0.971634742886224075941694947628"}

#: Our reproduction per N: (attempts until the table was reached within 1e-6
#: degrees, run A, seed 11000 + N; how that attempt started: "random",
#: "random+smooth" or "perturb"; hits out of exactly 100 attempts, run B, seed
#: 13000 + N; the largest separation found in both runs, degrees, 9 decimals).
TAMMES_REPRODUCTION: dict[int, tuple[int, str, int, float]] = {
    3: (1, "random", 100, 120.000000000),
    4: (1, "random", 100, 109.471220634),
    5: (1, "random", 100, 90.000000000),
    6: (1, "random", 97, 90.000000000),
    7: (1, "random", 100, 77.869542155),
    8: (1, "random", 100, 74.858492186),
    9: (1, "random", 100, 70.528779366),
    10: (3, "perturb", 44, 66.146821988),
    11: (1, "random", 100, 63.434948823),
    12: (1, "random", 100, 63.434948823),
    13: (12, "perturb", 19, 57.136703078),
    14: (19, "random", 30, 55.670569996),
    15: (2, "random+smooth", 55, 53.657850130),
    16: (7, "random", 42, 52.244395753),
    17: (2, "random+smooth", 95, 51.090328552),
    18: (2, "random+smooth", 76, 49.556654768),
    19: (3, "perturb", 26, 47.691914109),
    20: (1, "random", 95, 47.431036227),
    21: (39, "perturb", 10, 45.613223106),
    22: (2, "random+smooth", 55, 44.740161167),
    23: (1, "random", 77, 43.709964205),
    24: (1, "random", 89, 43.690767108),
    25: (4, "random+smooth", 43, 41.634461260),
    26: (387, "perturb", 13, 41.037661607),
    27: (1, "random", 73, 40.677600685),
    28: (65, "random", 2, 39.355143569),
    29: (18, "perturb", 3, 38.713651194),
    30: (1, "random", 80, 38.597115954),
    31: (39, "perturb", 0, 37.709829144),
    32: (1, "random", 49, 37.475213975),
    33: (63, "perturb", 1, 36.254552975),
    34: (27, "perturb", 9, 35.807784396),
    35: (237, "perturb", 9, 35.319807591),
    36: (1, "random", 76, 35.189732258),
    37: (35, "random", 1, 34.422408009),
    38: (2, "random+smooth", 68, 34.250660672),
    39: (117, "perturb", 3, 33.489046580),
    40: (9, "perturb", 15, 33.158356264),
}

#: Remarks on single entries (every N in the table was reproduced; see the docstring).
TAMMES_NOTES: dict[int, str] = {
    31: (
        "Reached in run A (attempt 39, a perturbation of the best so far) but in none "
        "of run B's 100 attempts (best there 8.4e-5 degrees below): a rare basin."
    ),
    11: "Same separation as N = 12: the icosahedron with one vertex removed is optimal (Danzer).",
    5: "Same separation as N = 6 (90 degrees); the optimal configurations are not unique.",
}

"""The 28 transports that left the Dossin barracks, as public sources give them.

The demo collection invents every person, but its transports must not be invented: the
departure dates, the number of persons on each list and the survivors in 1945 below are
copied from the public pages cited next to each row, and the demo scales the persons per
transport from these numbers. Where a source gives no number the field is None; nothing
is filled in from memory.

Sources (read through stored copies of the pages; the canonical addresses are cited):
- The list: https://wikiwand.com/fr/articles/Convois_de_la_déportation_des_Juifs_de_Belgique
  (fr.wikipedia, "Convois de la déportation des Juifs de Belgique": 28 convoys from
  4 August 1942 to 31 July 1944, 24,906 Jews "ainsi que 351 Tsiganes", to Auschwitz).
- One fr.wikipedia page per convoy ("Convoi n° 10 du 15 septembre 1942" ...): date,
  total deported, survivors in 1945. URLs in the table.
- Joods Monument, "About the convoys 22A and 22B of 20 September 1943", for XXIIA (639),
  and its pages on the 12th/13th, 16th/17th, 18th/19th and 24th convoys for XIII's date
  and for survivors the fr.wikipedia page does not give.
- Kazerne Dossin, "Transport XXV: petit casse-tête pour historiens" (508 persons) and
  Yad Vashem's deportation database (XXV left Mechelen on 19 May 1944).
- Transport Z: Encyclopaedia of the genocide of Sinti and Roma, "Transport Z" (352 persons,
  15 January 1944, Auschwitz-Birkenau; DOMAIN.md says 352 too); fr.wikipedia's "Convoi Z
  du 15 janvier 1944" gives 351 and 12 survivors.
- The share of survivors where no convoy figure was found: "Cinq pour cent seulement ont
  survécu" (Liberation Route Europe, "Last train to Auschwitz", Kazerne Dossin).

XIII: only its date (10 October 1942, with XII) was found, not its size. Its weight in the
demo is what the list's total leaves after the sourced Jewish convoys (see
`weights`), a derived figure, marked as such in transports.csv.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

WIKI = "https://fr.wikipedia.org/wiki/"
LIST_URL = "https://wikiwand.com/fr/articles/Convois_de_la_déportation_des_Juifs_de_Belgique"
LIST_TOTAL_JEWS = 24_906
"""Jews deported in the 28 convoys, per the list page's infobox ("Total 24906")."""
DEFAULT_SURVIVAL = 0.05
DEFAULT_SURVIVAL_URL = "https://www.liberationroute.com/fr/pois/1179/last-train-to-auschwitz"
AUSCHWITZ = "Auschwitz-Birkenau"


@dataclass(frozen=True, slots=True)
class SourcedTransport:
    code: str
    departed: date | None
    destination: str
    deported: int | None
    """Persons on the list as the source counts them; None when no source gave it."""
    survivors: int | None
    """Survivors in 1945 per the source; None when not given."""
    note: str
    sources: tuple[str, ...]


def _t(
    code: str, departed: date | None, deported: int | None, survivors: int | None, note: str, *sources: str
) -> SourcedTransport:
    return SourcedTransport(code, departed, AUSCHWITZ, deported, survivors, note, sources)


# In order of departure; Z left on the same day as XXIII, coupled to it.
TRANSPORTS: tuple[SourcedTransport, ...] = (
    _t("I", date(1942, 8, 4), 999, 6, "first convoy from Mechelen", WIKI + "Convoi_n°_1_du_4_août_1942"),
    _t("II", date(1942, 8, 11), 999, 3, "", WIKI + "Convoi_n°_2_du_11_août_1942"),
    _t("III", date(1942, 8, 15), 1000, 5, "", WIKI + "Convoi_n°_3_du_15_août_1942"),
    _t("IV", date(1942, 8, 18), 997, 0, "", WIKI + "Convoi_n°_4_du_18_août_1942"),
    _t("V", date(1942, 8, 25), 996, 27, "", WIKI + "Convoi_n°_5_du_25_août_1942"),
    _t("VI", date(1942, 8, 29), 1000, 34, "stopped at Kosel", WIKI + "Convoi_n°_6_du_29_août_1942"),
    _t("VII", date(1942, 9, 1), 1000, None, "stopped at Kosel", WIKI + "Convoi_n°_7_du_1er_septembre_1942"),
    _t("VIII", date(1942, 9, 8), 1000, 34, "stopped at Kosel", WIKI + "Convoi_n°_8_du_8_septembre_1942"),
    _t("IX", date(1942, 9, 12), 1000, 30, "stopped at Kosel", WIKI + "Convoi_n°_9_du_12_septembre_1942"),
    _t("X", date(1942, 9, 15), 1048, 17, "", WIKI + "Convoi_n°_10_du_15_septembre_1942"),
    _t("XI", date(1942, 9, 26), 1742, 30, "the largest convoy", WIKI + "Convoi_n°_11_du_26_septembre_1942"),
    _t("XII", date(1942, 10, 10), 1000, 28, "stopped at Kosel", WIKI + "Convoi_n°_12_du_10_octobre_1942"),
    _t(
        "XIII",
        date(1942, 10, 10),
        None,
        None,
        "left with XII; size not found in the sources",
        "https://www.joodsmonument.nl/en/page/612958/about-the-14th-and-15th-convoy-of-24-october-1942.",
    ),
    _t("XIV", date(1942, 10, 24), 995, None, "left with XV", WIKI + "Convoi_n°_14_et_15_du_24_octobre_1942"),
    _t("XV", date(1942, 10, 24), 477, None, "left with XIV", WIKI + "Convoi_n°_14_et_15_du_24_octobre_1942"),
    _t(
        "XVI",
        date(1942, 10, 31),
        823,
        50,
        "left with XVII; mostly forced labourers from northern France",
        WIKI + "Convoi_n°_16_et_17_du_31_octobre_1942",
        "https://joodsmonument.nl/en/page/601318/about-the-16th-17th-convoy-of-31-october-1942.",
    ),
    _t(
        "XVII",
        date(1942, 10, 31),
        875,
        35,
        "left with XVI; mostly forced labourers from northern France",
        WIKI + "Convoi_n°_16_et_17_du_31_octobre_1942",
        "https://joodsmonument.nl/en/page/601318/about-the-16th-17th-convoy-of-31-october-1942.",
    ),
    _t(
        "XVIII",
        date(1943, 1, 15),
        947,
        4,
        "left with XIX",
        WIKI + "Convoi_n°_18_et_19_du_15_janvier_1943",
        "https://joodsmonument.nl/en/page/623403/about-the-18th-and-19th-convoy-of-15-january-1943.",
    ),
    _t(
        "XIX",
        date(1943, 1, 15),
        612,
        7,
        "left with XVIII",
        WIKI + "Convoi_n°_18_et_19_du_15_janvier_1943",
        "https://joodsmonument.nl/en/page/623403/about-the-18th-and-19th-convoy-of-15-january-1943.",
    ),
    _t(
        "XX",
        date(1943, 4, 19),
        1631,
        153,
        "stopped by the resistance near Boortmeerbeek",
        WIKI + "Convoi_n°_20_du_19_avril_1943",
    ),
    _t("XXI", date(1943, 7, 31), 1553, None, "", WIKI + "Convoi_n°_21_du_31_juillet_1943"),
    _t(
        "XXIIA",
        date(1943, 9, 20),
        639,
        None,
        "Jews of foreign nationality",
        "https://joodsmonument.nl/en/page/623424/about-the-convoys-22a-and-22b-of-20-september-1943.",
    ),
    _t(
        "XXIIB",
        date(1943, 9, 20),
        794,
        None,
        "Jews of Belgian nationality",
        WIKI + "Convoi_n°_22B_du_20_septembre_1943",
    ),
    _t("XXIII", date(1944, 1, 15), 655, None, "", WIKI + "Convoi_n°_23_du_15_janvier_1944"),
    _t(
        "Z",
        date(1944, 1, 15),
        352,
        12,
        "Roma and Sinti, coupled to XXIII (fr.wikipedia counts 351)",
        "https://encyclopaedia-gsr.eu/lemma/transport-z-de",
        WIKI + "Convoi_Z_du_15_janvier_1944",
    ),
    _t(
        "XXIV",
        date(1944, 4, 4),
        625,
        147,
        "",
        WIKI + "Convoi_n°_24_du_4_avril_1944",
        "https://joodsmonument.nl/en/page/609348/about-the-24th-convoy-of-4-april-1944.",
    ),
    _t(
        "XXV",
        date(1944, 5, 19),
        508,
        None,
        "",
        "https://kazernedossin.memorial/artikel/transport-xxv-petit-casse-tete-pour-historiens/?lang=fr",
        "https://collections.yadvashem.org/en/deportations/5092550",
    ),
    _t("XXVI", date(1944, 7, 31), 563, 186, "the last convoy", WIKI + "Convoi_n°_26_du_31_juillet_1944"),
)


def derived_weight_for_unsized() -> int:
    """The list's Jewish total less the sourced Jewish convoys: the room left for XIII."""
    sized = sum(t.deported or 0 for t in TRANSPORTS if t.code != "Z")
    return LIST_TOTAL_JEWS - sized


def weights() -> dict[str, int]:
    """Persons per transport to scale the demo from: sourced, or derived for XIII."""
    derived = derived_weight_for_unsized()
    return {t.code: t.deported if t.deported is not None else derived for t in TRANSPORTS}


def survival_rate(transport: SourcedTransport) -> float:
    """Share of the list alive in 1945: the convoy's own figure, else the overall 5 %."""
    if transport.deported and transport.survivors is not None:
        return transport.survivors / transport.deported
    return DEFAULT_SURVIVAL


def transports_csv_note(transport: SourcedTransport) -> str:
    """The note column: what the source says, so the demo's numbers can be traced."""
    parts = [transport.note] if transport.note else []
    if transport.deported is not None:
        parts.append(f"{transport.deported} deported per source")
    else:
        derived = derived_weight_for_unsized()
        parts.append(
            f"size not in sources: demo weight {derived} = list total {LIST_TOTAL_JEWS} less the sourced convoys"
        )
    if transport.survivors is not None:
        parts.append(f"{transport.survivors} survivors in 1945 per source")
    return "; ".join(parts)

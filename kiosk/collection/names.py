"""Name parts for the fictional demo collection.

Invented persons need names that look like the real lists so search, sorting and the
reading voice can be tested on what they will meet: Polish, Yiddish, German, Dutch and
Flemish, French, Hungarian, Czech and Slovak, Romanian and Greek forms, with their
diacritics, and Romani and Sinti family names for transport Z. Surnames come in groups of
spelling variants of one name (Goldsztajn, Goldstein, Goldsteyn ...), because the lists
spell one family several ways and search must find them all.

Only parts are listed, never a person: the generator combines a surname and given names at
random. Surnames that the consulted sources (see `kiosk.collection.sources`) give to named
deportees were left out of the lists, and the few pairs of common parts that would still
name a real person there are refused (`AVOIDED`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Culture:
    """Where a family's names and birthplaces come from."""

    name: str
    surnames: tuple[tuple[str, ...], ...]
    """Groups of spelling variants of one family name; the first is the most common."""
    female: tuple[str, ...]
    male: tuple[str, ...]
    places: tuple[str, ...]


# fmt: off
POLISH = Culture(
    "polish",
    surnames=(
        ("Goldsztajn", "Goldsztejn", "Goldstein", "Goldsteyn", "Goldshteyn"),
        ("Szapiro", "Szpiro", "Shapiro", "Schapira"),
        ("Wajsbrot", "Weissbrot", "Vajsbrot"),
        ("Rozenberg", "Rosenberg", "Rozenberk"),
        ("Zylberberg", "Silberberg", "Zilberberg"),
        ("Rozencwajg", "Rosenzweig", "Rozentsvayg"),
        ("Grynszpan", "Grünspan", "Grinshpan"),
        ("Szwarc", "Schwarz", "Shvarts"),
        ("Kac", "Katz", "Kats"),
        ("Fiszman", "Fischmann", "Fishman"),
        ("Lewkowicz", "Lefkowitz", "Lewkowitz"),
        ("Frydman", "Friedmann", "Fridman"),
        ("Cukierman", "Zuckermann", "Tsukerman"),
        ("Herszkowicz", "Herschkowitz", "Hershkovitsh"),
        ("Mandelbaum", "Mandelboim"),
        ("Sztern", "Stern", "Shtern"),
        ("Rabinowicz", "Rabinowitz", "Rabinovitsh"),
        ("Zonszajn", "Sonnenschein", "Zunshayn"),
        ("Fajnzylber", "Feinsilber", "Faynzilber"),
        ("Najman", "Neumann", "Nayman"),
        ("Ajzensztadt", "Eisenstadt", "Ayzenshtat"),
        ("Tenenbaum", "Tannenbaum", "Tenenboym"),
        ("Grynberg", "Grünberg", "Grinberg"),
        ("Apelbaum", "Appelbaum", "Apelboym"),
        ("Birencwajg", "Birnzweig"),
        ("Wolfowicz", "Wolfowitz", "Volfovitsh"),
        ("Perelmuter", "Perlmutter"),
        ("Kirszenbaum", "Kirschenbaum", "Kirshnboym"),
        ("Lubliner", "Lublinier"),
        ("Płocker", "Plotzker"),
        ("Ślązak", "Slonzak"),
        ("Bronsztajn", "Bronstein", "Bronshteyn"),
    ),
    female=(
        "Chaja", "Ruchla", "Estera", "Łaja", "Sura", "Rywka", "Perla", "Frajda", "Cyrla", "Dwojra",
        "Gitla", "Hinda", "Mindla", "Rajzla", "Szprinca", "Bajla", "Brucha", "Fajga", "Małka", "Jenta",
        "Zlata", "Salcia", "Róża", "Hela", "Regina", "Bronisława", "Chana", "Ryfka", "Blima", "Dobra",
    ),
    male=(
        "Szmul", "Icek", "Mordka", "Józef", "Abram", "Chaim", "Mojżesz", "Herszel", "Berek", "Dawid",
        "Lejzor", "Majer", "Moszek", "Szlama", "Wolf", "Nuchim", "Jankiel", "Fiszel", "Pinkus", "Szymon",
        "Izrael", "Lejb", "Josek", "Mendel", "Srul", "Zelig", "Hersz", "Aron", "Boruch", "Uszer",
    ),
    places=(
        "Warszawa", "Warsaw", "Łódź", "Kraków", "Lublin", "Radom", "Częstochowa", "Białystok",
        "Sosnowiec", "Będzin", "Kielce", "Tarnów", "Lwów", "Przemyśl", "Płock", "Siedlce",
    ),
)

YIDDISH = Culture(
    "yiddish",
    surnames=(
        ("Goldshteyn", "Goldsztajn", "Goldstein"),
        ("Vaysbrot", "Wajsbrot", "Weissbrot"),
        ("Rozenberg", "Rosenberg"),
        ("Zilberberg", "Zylberberg"),
        ("Shvarts", "Szwarc", "Schwartz"),
        ("Fridman", "Frydman"),
        ("Kats", "Kac", "Katz"),
        ("Veksler", "Wechsler", "Weksler"),
        ("Faygenboym", "Fajgenbaum", "Feigenbaum"),
        ("Shulman", "Szulman", "Schulmann"),
        ("Kaplan", "Kapłan"),
        ("Lerner", "Lerer"),
        ("Rozntal", "Rosenthal", "Rozental"),
    ),
    female=(
        "Chana", "Rivka", "Sheyndl", "Feyge", "Gitl", "Rokhl", "Sore", "Libe", "Perl", "Beyle",
        "Tsirl", "Dvoyre", "Brayne", "Khaye",
    ),
    male=(
        "Moshe", "Hersz", "Yankev", "Leyb", "Shloyme", "Avrom", "Dovid", "Itsik", "Mendl", "Velvl",
        "Shmuel", "Khaim", "Motl", "Yoysef",
    ),
    places=("Wilno", "Vilne", "Brześć", "Pińsk", "Grodno", "Łódź", "Warszawa", "Białystok", "Równe"),
)

GERMAN = Culture(
    "german",
    surnames=(
        ("Goldstein", "Goldsztajn", "Goldsteyn"),
        ("Rosenthal", "Rozental"),
        ("Kahn", "Cahn", "Kohn"),
        ("Löwenstein", "Loewenstein", "Lewensztajn"),
        ("Oppenheimer", "Oppenheim"),
        ("Hirsch", "Hirsz"),
        ("Wertheimer", "Werthajmer"),
        ("Bernheim", "Bernheimer"),
        ("Heymann", "Heimann", "Hajman"),
        ("Neumann", "Najman"),
        ("Adler", "Adlér"),
        ("Lilienthal", "Liliental"),
        ("Rosenbaum", "Rozenbaum"),
        ("Kaufmann", "Kaufman"),
        ("Grünewald", "Grunewald", "Grynwald"),
        ("Weil", "Weill", "Wajl"),
        ("Blumenthal", "Blumental"),
        ("Sichel", "Sichl"),
        ("Katzenstein", "Kacensztajn"),
        ("Strauß", "Strauss", "Sztrauss"),
    ),
    female=(
        "Gertrud", "Käthe", "Hedwig", "Ilse", "Margarete", "Else", "Irmgard", "Recha", "Frieda",
        "Johanna", "Erna", "Thekla", "Jenny", "Betty", "Gerda", "Liesel", "Henriette", "Klara",
    ),
    male=(
        "Siegfried", "Julius", "Ludwig", "Max", "Kurt", "Walter", "Ernst", "Fritz", "Hermann",
        "Alfred", "Leopold", "Salomon", "Hugo", "Berthold", "Manfred", "Günther", "Heinz", "Arthur",
    ),
    places=(
        "Berlin", "Wien", "Frankfurt am Main", "Köln", "Leipzig", "Hamburg", "München", "Breslau",
        "Mannheim", "Aachen", "Düsseldorf", "Nürnberg",
    ),
)

DUTCH = Culture(
    "dutch",
    surnames=(
        ("van Praag", "Van Praag", "van Praagh"),
        ("de Wolff", "De Wolf", "de Wolf"),
        ("van den Berg", "Van den Berghe", "van den Bergh"),
        ("de Leeuw", "De Leeuw", "de Leeuwe"),
        ("van Gelder", "Van Gelder"),
        ("Polak", "Polack", "Pollak"),
        ("de Jong", "de Jongh"),
        ("Prins", "Prinz"),
        ("Spier", "Spiers"),
        ("de Vries", "De Vries"),
        ("Bloemendaal", "Blumendal"),
        ("van Dam", "Van Damme"),
        ("Waterman", "Wasserman"),
        ("Hamburger", "Hambourger"),
    ),
    female=(
        "Sara", "Rebecca", "Judith", "Mietje", "Roosje", "Grietje", "Esther", "Betje", "Vogeltje",
        "Duifje", "Klaartje", "Schoontje", "Marianne", "Leentje",
    ),
    male=(
        "Mozes", "Levie", "Izaak", "Jacob", "Salomon", "Abraham", "Benjamin", "Hartog", "Meijer",
        "Elias", "Samuel", "Nathan", "Joël", "Barend",
    ),
    places=("Amsterdam", "Rotterdam", "Den Haag", "Antwerpen", "Gent", "Arnhem", "Groningen", "Maastricht"),
)

FRENCH = Culture(
    "french",
    surnames=(
        ("Lévy", "Levy", "Lévi", "Levi"),
        ("Dreyfus", "Dreyfuss", "Drejfus"),
        ("Blum", "Bloum"),
        ("Cohen", "Cohn", "Kohen", "Cahen"),
        ("Bloch", "Bloc", "Block"),
        ("Weill", "Weil"),
        ("Haas", "Has"),
        ("Lazard", "Lazare"),
        ("Worms", "Worm"),
        ("Halphen", "Halfen"),
        ("Ullmann", "Ulmann", "Ulman"),
        ("Nordmann", "Nordman"),
        ("Schwob", "Schwab"),
    ),
    female=(
        "Hélène", "Renée", "Suzanne", "Simone", "Berthe", "Lucienne", "Germaine", "Marguerite",
        "Jeanne", "Yvonne", "Odette", "Paulette", "Thérèse", "Léonie",
    ),
    male=(
        "Lucien", "René", "Marcel", "Maurice", "Léon", "André", "Georges", "Albert", "Émile",
        "Gaston", "Raymond", "Jules", "Félix", "Edmond",
    ),
    places=(
        "Paris", "Strasbourg", "Metz", "Lille", "Nancy", "Bruxelles", "Liège", "Lens", "Roubaix",
        "Mulhouse",
    ),
)

HUNGARIAN = Culture(
    "hungarian",
    surnames=(
        ("Weisz", "Weiss", "Wajs", "Vajs"),
        ("Grósz", "Gross", "Grosz"),
        ("Schwarcz", "Schwarz", "Szwarc", "Švarc"),
        ("Klein", "Klajn", "Klain"),
        ("Deutsch", "Dajcz", "Deuts"),
        ("Fried", "Frid"),
        ("Fischer", "Fiszer"),
        ("Herskovits", "Herszkowicz", "Herškovič"),
        ("Spitzer", "Szpicer"),
        ("Lőwy", "Löwy", "Lewi"),
        ("Farkas", "Farkaš"),
        ("Székely", "Szekely"),
        ("Mermelstein", "Mermelsztajn"),
    ),
    female=(
        "Erzsébet", "Ilona", "Margit", "Rózsa", "Zsófia", "Katalin", "Irén", "Etelka", "Piroska",
        "Magda", "Terézia", "Júlia",
    ),
    male=(
        "Sándor", "Ödön", "Lajos", "Jenő", "Dezső", "Imre", "Gyula", "Miklós", "Béla", "Ernő",
        "Zoltán", "Mór",
    ),
    places=("Budapest", "Debrecen", "Miskolc", "Munkács", "Nagyvárad", "Szeged", "Ungvár", "Sátoraljaújhely"),
)

CZECH = Culture(
    "czech",
    surnames=(
        ("Fischl", "Fišl"),
        ("Popper", "Poper"),
        ("Taussig", "Tausik", "Tausig"),
        ("Bondy", "Bondi"),
        ("Lederer", "Lederér"),
        ("Pick", "Pik"),
        ("Kraus", "Krauss"),
        ("Pollák", "Pollak", "Polak"),
        ("Stránský", "Stransky"),
        ("Beck", "Bek"),
    ),
    female=("Anna", "Marie", "Růžena", "Věra", "Hana", "Ludmila", "Jiřina", "Eva", "Olga", "Zdeňka"),
    male=("Karel", "František", "Jiří", "Otakar", "Josef", "Bedřich", "Vojtěch", "Oldřich", "Leo", "Arnošt"),
    places=("Praha", "Brno", "Bratislava", "Košice", "Ostrava", "Prešov", "Olomouc", "Nitra"),
)

ROMANIAN = Culture(
    "romanian",
    surnames=(
        ("Herșcovici", "Herscovici", "Herszkowicz"),
        ("Moscovici", "Moskowicz", "Moscovitz"),
        ("Aronovici", "Aronowicz"),
        ("Marcovici", "Markowitz"),
        ("Leibovici", "Lejbowicz", "Leibowitz"),
        ("Segal", "Segall", "Siegel"),
        ("Iancu", "Jancu"),
        ("Rosen", "Rozen"),
        ("Șmilovici", "Smilovici"),
    ),
    female=("Ana", "Sura", "Roza", "Clara", "Fani", "Mina", "Tereza", "Rebeca", "Lea", "Sofia"),
    male=("Iosif", "Avram", "Moise", "Solomon", "Herman", "Iancu", "Marcel", "Șmil", "Isidor", "Leon"),
    places=(
        "Czernowitz", "Chernivtsi", "Cernăuți", "București", "Bucharest", "Iași", "Galați",
        "Sighet", "Bacău",
    ),
)

GREEK = Culture(
    "greek",
    surnames=(
        ("Saltiel", "Saltiël"),
        ("Benveniste", "Benvenisti"),
        ("Modiano", "Modiáno"),
        ("Nahmias", "Nachmias"),
        ("Matalon", "Mattalon"),
        ("Florentin", "Florentín"),
        ("Amarillo", "Amarilio"),
        ("Pardo", "Pardó"),
        ("Errera", "Herrera"),
    ),
    female=("Allegra", "Rachel", "Vida", "Sol", "Sarina", "Mazaltov", "Estrea", "Bienvenida"),
    male=("Isaac", "Salomon", "Juda", "Samuel", "Haïm", "Alberto", "Nissim", "Moïse"),
    places=("Saloniki", "Thessaloniki", "Salonique", "Kavala", "Smyrna", "Istanbul"),
)

ROMANI = Culture(
    "romani",
    surnames=(
        ("Hanstein", "Hanštajn"),
        ("Lagrené", "Lagrenée", "Lagrene"),
        ("Reinhart", "Reinhardt", "Reinhard"),
        ("Weiss", "Weisz", "Weis"),
        ("Winterstein", "Vinterstein", "Wintersztajn"),
        ("Ferret", "Ferré", "Feret"),
        ("Laubinger", "Laubiner"),
        ("Mettbach", "Metbach"),
        ("Daniel", "Daniël"),
        ("Steinbach", "Štajnbach"),
        ("Bamberger", "Bamberg"),
        ("Rose", "Roze"),
    ),
    female=(
        "Pauline", "Tinka", "Maria", "Rosa", "Lina", "Mimi", "Sonja", "Bella", "Mathilde", "Kathi",
        "Ninette", "Zéphirine", "Marcelle",
    ),
    male=(
        "Django", "Joseph", "Jean", "Gustave", "Louis", "Émile", "Pierre", "Baptiste", "Théodore",
        "Hans", "Carlo", "Ferdinand", "Nénesse",
    ),
    places=(
        "Tournai", "Roubaix", "Arras", "Liège", "Lille", "Charleroi", "Bruxelles", "Gent", "Douai",
        "Lens", "Mons", "Namur",
    ),
)
# fmt: on

BELGIAN_PLACES = ("Antwerpen", "Anvers", "Brussel", "Bruxelles", "Liège", "Charleroi", "Gent", "Mechelen")
"""Where children of families settled in Belgium were born."""

JEWISH_CULTURES: tuple[tuple[Culture, int], ...] = (
    (POLISH, 45),
    (YIDDISH, 8),
    (GERMAN, 14),
    (DUTCH, 5),
    (FRENCH, 6),
    (HUNGARIAN, 8),
    (CZECH, 5),
    (ROMANIAN, 6),
    (GREEK, 3),
)
"""Weights: mostly families from Poland, as in Belgium's Jewish population of 1940."""

AVOIDED = {
    ("Django", "Reinhardt"),
    ("Django", "Reinhart"),
    ("Django", "Reinhard"),
    ("Szlama", "Rosenberg"),
    ("Szlama", "Rozenberg"),
    ("Max", "Katz"),
    ("Max", "Kac"),
    ("Max", "Kats"),
}
"""First name and surname pairs that the consulted sources, or history, give to real persons."""


def is_avoided_name(given_names: str, surname: str) -> bool:
    first = given_names.split(" ", 1)[0]
    return (first, surname) in AVOIDED

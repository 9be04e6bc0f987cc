"""ImageNet-1k classes → Rekognition-style label names and parents (a data table).

Each entry: Rekognition-style name, its parents (nearest first, as Rekognition lists them), and the
ImageNet class indices it covers ("a-b" is an inclusive range). Parents are themselves labels whose
confidence is the summed probability of everything under them. Classes not listed here fall back to
their cleaned ImageNet name with no parents. ``HIERARCHY`` gives the parents of parent labels.
"""

from __future__ import annotations

# name, parents, ImageNet indices
TABLE: list[tuple[str, list[str], str]] = [
    # --- animals
    ("Fish", ["Animal", "Sea Life"], "0-1 389-397"),
    ("Shark", ["Fish", "Animal", "Sea Life"], "2-4"),
    ("Ray", ["Fish", "Animal", "Sea Life"], "5-6"),
    ("Chicken", ["Bird", "Animal", "Poultry"], "7-8"),
    ("Ostrich", ["Bird", "Animal"], "9"),
    ("Bird", ["Animal"], "10-20 80-83 85-86 91-93 95 98 127-129 131-143 146"),
    ("Bald Eagle", ["Eagle", "Bird", "Animal"], "22"),
    ("Eagle", ["Bird", "Animal"], "21"),
    ("Vulture", ["Bird", "Animal"], "23"),
    ("Owl", ["Bird", "Animal"], "24"),
    ("Amphibian", ["Animal", "Wildlife"], "25-29"),
    ("Frog", ["Amphibian", "Animal", "Wildlife"], "30-32"),
    ("Turtle", ["Reptile", "Animal", "Sea Life"], "33-37"),
    ("Lizard", ["Reptile", "Animal"], "38-48"),
    ("Crocodile", ["Reptile", "Animal"], "49-50"),
    ("Dinosaur", ["Animal"], "51"),
    ("Snake", ["Reptile", "Animal"], "52-68"),
    ("Spider", ["Invertebrate", "Animal"], "70 72-77"),
    ("Insect", ["Invertebrate", "Animal"], "78-79 300-320"),
    ("Butterfly", ["Insect", "Invertebrate", "Animal"], "321-326"),
    ("Scorpion", ["Invertebrate", "Animal"], "71"),
    ("Peacock", ["Bird", "Animal"], "84"),
    ("Parrot", ["Bird", "Animal"], "87-90"),
    ("Hummingbird", ["Bird", "Animal"], "94"),
    ("Toucan", ["Bird", "Animal"], "96"),
    ("Duck", ["Bird", "Animal"], "97"),
    ("Goose", ["Bird", "Animal"], "99"),
    ("Swan", ["Bird", "Animal"], "100"),
    ("Flamingo", ["Bird", "Animal"], "130"),
    ("Pelican", ["Bird", "Animal"], "144"),
    ("Penguin", ["Bird", "Animal"], "145"),
    ("Elephant", ["Mammal", "Animal", "Wildlife"], "101 385-386"),
    ("Kangaroo", ["Mammal", "Animal", "Wildlife"], "104"),
    ("Koala", ["Mammal", "Animal", "Wildlife"], "105"),
    ("Mammal", ["Animal"], "102-103 106"),
    ("Sea Life", ["Animal"], "107-117 327-329"),
    ("Crab", ["Seafood", "Sea Life", "Animal", "Food"], "118-121 125"),
    ("Lobster", ["Seafood", "Sea Life", "Animal", "Food"], "122-124"),
    ("Whale", ["Mammal", "Sea Life", "Animal"], "147-148"),
    ("Sea Lion", ["Mammal", "Sea Life", "Animal"], "149-150"),
    ("Dog", ["Pet", "Canine", "Mammal", "Animal"], "151-268"),
    ("Wolf", ["Canine", "Mammal", "Animal", "Wildlife"], "269-271"),
    ("Coyote", ["Canine", "Mammal", "Animal", "Wildlife"], "272-275"),
    ("Hyena", ["Mammal", "Animal", "Wildlife"], "276"),
    ("Fox", ["Canine", "Mammal", "Animal", "Wildlife"], "277-280"),
    ("Cat", ["Pet", "Mammal", "Animal"], "281-285"),
    ("Big Cat", ["Mammal", "Animal", "Wildlife"], "286-287"),
    ("Leopard", ["Big Cat", "Mammal", "Animal", "Wildlife"], "288-290 293"),
    ("Lion", ["Big Cat", "Mammal", "Animal", "Wildlife"], "291"),
    ("Tiger", ["Big Cat", "Mammal", "Animal", "Wildlife"], "292"),
    ("Bear", ["Mammal", "Animal", "Wildlife"], "294-297"),
    ("Mammal", ["Animal"], "298-299 356-364"),
    ("Rabbit", ["Rodent", "Mammal", "Animal"], "330-332"),
    ("Rodent", ["Mammal", "Animal"], "333-338"),
    ("Horse", ["Mammal", "Animal"], "339"),
    ("Zebra", ["Mammal", "Animal", "Wildlife"], "340"),
    ("Pig", ["Mammal", "Animal"], "341-343"),
    ("Hippo", ["Mammal", "Animal", "Wildlife"], "344"),
    ("Cattle", ["Livestock", "Mammal", "Animal"], "345-347"),
    ("Sheep", ["Livestock", "Mammal", "Animal"], "348-349"),
    ("Goat", ["Mammal", "Animal", "Wildlife"], "350"),
    ("Antelope", ["Mammal", "Animal", "Wildlife"], "351-353"),
    ("Camel", ["Mammal", "Animal"], "354"),
    ("Llama", ["Mammal", "Animal"], "355"),
    ("Monkey", ["Primate", "Mammal", "Animal", "Wildlife"], "365-384"),
    ("Panda", ["Mammal", "Animal", "Wildlife"], "387-388"),
    # --- vehicles and transport
    ("Boat", ["Vehicle", "Transportation"], "472 484 554 576 625 693 814 871 914"),
    ("Ship", ["Vehicle", "Transportation", "Boat"], "403 510 628 724 780 833 913"),
    ("Airplane", ["Aircraft", "Vehicle", "Transportation"], "404 895 908"),
    ("Aircraft", ["Vehicle", "Transportation"], "405"),
    ("Ambulance", ["Car", "Vehicle", "Transportation"], "407"),
    ("Car", ["Vehicle", "Transportation"], "436 468 511 581 609 627 656 661 717 751 817 479 475"),
    ("Truck", ["Vehicle", "Transportation"], "555 569 595 675 734 864 866 867 803"),
    ("Bus", ["Vehicle", "Transportation"], "654 779 874"),
    ("Train", ["Vehicle", "Transportation", "Railway"], "466 547 565 705 820 829"),
    ("Bicycle", ["Vehicle", "Transportation"], "444 671 870 880"),
    ("Motorcycle", ["Vehicle", "Transportation"], "665 670"),
    ("Rocket", ["Spaceship", "Aircraft", "Vehicle", "Transportation"], "657 744"),
    ("Space Shuttle", ["Spaceship", "Aircraft", "Vehicle", "Transportation"], "812"),
    ("Vehicle", ["Transportation"], "408 450 573 575 586 595 603 612 660 690 757 802 847 537"),
    ("Tractor", ["Vehicle", "Transportation"], "856"),
    ("Wheel", ["Machine"], "535"),
    ("Traffic Light", ["Light"], "920"),
    ("Road Sign", ["Sign", "Symbol"], "919"),
    # --- food and drink
    ("Coffee", ["Beverage", "Drink"], "967"),
    ("Coffee Cup", ["Cup"], "504 968"),
    ("Cup", [], "968"),
    ("Wine", ["Alcohol", "Beverage", "Drink"], "966"),
    ("Bottle", [], "440 737 898 907"),
    ("Beer", ["Alcohol", "Beverage", "Drink"], "441"),
    ("Glass", [], "572"),
    ("Teapot", ["Pottery"], "849"),
    ("Pizza", ["Food", "Meal"], "963"),
    ("Burger", ["Food", "Meal"], "933"),
    ("Hot Dog", ["Food", "Meal"], "934"),
    ("Dessert", ["Food"], "927-929"),
    ("Bread", ["Food"], "930-932 415"),
    ("Food", [], "924-926 935 959-962 964-965 969"),
    ("Vegetable", ["Food", "Produce", "Plant"], "936-947"),
    ("Fruit", ["Food", "Produce", "Plant"], "948-957 989"),
    ("Plate", ["Dish", "Food"], "923"),
    ("Bowl", ["Dish"], "659 809"),
    # --- nature and places
    ("Mountain", ["Nature", "Outdoors", "Landscape"], "970 979"),
    ("Volcano", ["Mountain", "Nature", "Outdoors"], "980"),
    ("Cliff", ["Nature", "Outdoors"], "972 976"),
    ("Beach", ["Nature", "Outdoors", "Shoreline", "Sea", "Water"], "977-978"),
    ("Lake", ["Nature", "Outdoors", "Water"], "975"),
    ("Coral Reef", ["Sea Life", "Nature", "Outdoors", "Water"], "973"),
    ("Geyser", ["Nature", "Outdoors"], "974"),
    ("Flower", ["Plant"], "985-986"),
    ("Plant", [], "984 987-988 990 998"),
    ("Fungus", ["Plant"], "991-997"),
    ("Pier", ["Water", "Outdoors"], "718 460"),
    ("Bridge", ["Architecture", "Outdoors"], "821 839 888"),
    ("Building", ["Architecture"], "410 425 449 497 580 660 663 668 698 743 832 853 858 900 915"),
    ("Temple", ["Building", "Architecture", "Worship"], "832"),
    ("Church", ["Building", "Architecture", "Worship"], "497 442"),
    ("Castle", ["Building", "Architecture"], "483"),
    ("Tower", ["Building", "Architecture"], "437 442 900"),
    ("Lighthouse", ["Tower", "Building", "Architecture"], "437"),
    ("Monument", ["Architecture"], "458 649 682 863 873"),
    ("Shop", ["Building", "Indoors"], "424 454 467 509 582 788 860 865"),
    ("Restaurant", ["Indoors"], "762"),
    ("Library", ["Indoors", "Book"], "624"),
    ("Fountain", ["Water", "Architecture"], "562"),
    ("Fence", ["Outdoors"], "489 716 912"),
    ("Wall", ["Architecture"], "825"),
    ("Roof", ["Building", "Architecture"], "853 858"),
    ("Dome", ["Architecture"], "538"),
    ("Stage", ["Indoors"], "819"),
    ("Tent", ["Camping", "Outdoors"], "672 915"),
    ("Patio", ["Outdoors"], "706"),
    # --- people-ish clothing and accessories (ImageNet has no person class)
    ("Clothing", [], "399-400 411 474 501 568 578 601 608 610 614 617 638 639 652 655 689 697 735 775 834 841 842 869 887 445 459"),
    ("Hat", ["Clothing"], "439 452 515 667 793 808 433"),
    ("Helmet", ["Clothing"], "518 560"),
    ("Shoe", ["Clothing", "Footwear"], "502 514 630 770 774"),
    ("Tie", ["Accessories"], "451 457 906"),
    ("Sunglasses", ["Accessories"], "836-837"),
    ("Bag", ["Accessories"], "414 636 748 893"),
    ("Jewelry", ["Accessories"], "679"),
    ("Mask", [], "643 570 796"),
    ("Umbrella", [], "879"),
    # --- home and objects
    ("Furniture", [], "423 453 492-493 495 526 548 553 559 564 703 765 857 894"),
    ("Chair", ["Furniture"], "423 559 765"),
    ("Table", ["Furniture"], "526 532"),
    ("Couch", ["Furniture"], "831"),
    ("Bed", ["Furniture"], "431 516 520 564"),
    ("Lamp", ["Light"], "619 846"),
    ("Clock", [], "409 530 892"),
    ("Watch", ["Accessories"], "531 826"),
    ("Appliance", [], "534 545 651 760 827 859 882 897 891"),
    ("Computer", ["Electronics"], "527 590 620 681 508 673 664 782"),
    ("Phone", ["Electronics"], "487 528 707"),
    ("Camera", ["Electronics"], "732 759 622"),
    ("Tripod", [], "872"),
    ("Television", ["Electronics", "Screen"], "851 598"),
    ("Electronics", [], "482 485 592 605 632 662 688 713 742 745 754 761"),
    ("Musical Instrument", [], "401-402 420 432 486 513 541 546 558 566 577 579 593-594 641-642 683-684 687 699 776 822 875 881 889"),
    ("Guitar", ["Musical Instrument"], "402 546"),
    ("Piano", ["Musical Instrument"], "579 881"),
    ("Violin", ["Musical Instrument"], "889"),
    ("Book", [], "453 921 917"),
    ("Toy", [], "850 719 723"),
    ("Teddy Bear", ["Toy"], "850"),
    ("Ball", ["Sport"], "429-430 522 574 722 768 805 852 890"),
    ("Sport", [], "416 422 543 602 702 746 747 752 795"),
    ("Tool", [], "477 491 587 596 740 784 792"),
    ("Weapon", [], "413 456 471 763-764"),
    ("Balloon", [], "417"),
    ("Text", [], "916 918 922"),
    ("Candle", [], "470"),
    ("Christmas", [], "496"),
    ("Halloween", [], "607"),
    ("Sign", ["Symbol"], "919"),
    ("Bathroom", ["Indoors", "Room"], "435 861 896 999 794"),
    ("Kitchen", ["Indoors", "Room"], "550 567 909 813 618"),
    ("Scuba Diving", ["Sport", "Water", "Person"], "983"),
    ("Wedding", ["Person"], "982"),
    ("Baseball", ["Sport", "Person"], "981"),
]

# Parents of parent labels (so "Cat" → "Pet" → ... all carry their own parents).
HIERARCHY: dict[str, list[str]] = {
    "Pet": ["Animal"], "Canine": ["Mammal", "Animal"], "Mammal": ["Animal"], "Bird": ["Animal"],
    "Reptile": ["Animal"], "Amphibian": ["Animal"], "Invertebrate": ["Animal"], "Insect": ["Animal"],
    "Wildlife": ["Animal"], "Sea Life": ["Animal"], "Fish": ["Animal", "Sea Life"], "Big Cat": ["Mammal", "Animal"],
    "Primate": ["Mammal", "Animal"], "Rodent": ["Mammal", "Animal"], "Livestock": ["Mammal", "Animal"],
    "Poultry": ["Bird", "Animal"], "Eagle": ["Bird", "Animal"], "Seafood": ["Food"],
    "Beverage": [], "Drink": [], "Alcohol": ["Beverage", "Drink"], "Cup": [], "Food": [],
    "Aircraft": ["Vehicle", "Transportation"], "Spaceship": ["Aircraft", "Vehicle", "Transportation"],
    "Vehicle": ["Transportation"], "Car": ["Vehicle", "Transportation"], "Boat": ["Vehicle", "Transportation"],
    "Shoreline": ["Nature", "Outdoors"], "Sea": ["Nature", "Outdoors", "Water"], "Landscape": ["Nature", "Outdoors"],
    "Mountain": ["Nature", "Outdoors", "Landscape"], "Building": ["Architecture"], "Tower": ["Building", "Architecture"],
    "Worship": [], "Footwear": ["Clothing"], "Accessories": [], "Furniture": [], "Musical Instrument": [],
    "Light": [], "Symbol": [], "Electronics": [], "Screen": ["Electronics"], "Room": ["Indoors"],
    "Produce": ["Food"], "Dish": ["Food"], "Pottery": [], "Railway": [], "Machine": [], "Toy": [],
}


# ImageNet's landscape classes (mountain, cliff, geyser, lakeshore, promontory, sandbar, beach, valley,
# volcano): what a photo is *of* as a whole, so they are also read from the whole frame (labels.py). Not
# coral reef: its labels carry Sea Life → Animal, a subject.
SCENE_CLASSES = "970 972 974-980"

# ImageNet's animals, read on a face's crop to tell an animal's face that the face detector took for a
# person's (a dog, a panda, a koala) from a person's. Not primates (365-384: a small human face can read
# as a siamang) nor fish (0-6, 389-397: ImageNet's "tench" photos are mostly anglers holding one).
ANIMAL_CLASSES = "7-364 385-388"


def _indices(spec: str) -> list[int]:
    out: list[int] = []
    for part in spec.split():
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def scene_classes() -> list[int]:
    return _indices(SCENE_CLASSES)


def animal_classes() -> list[int]:
    return _indices(ANIMAL_CLASSES)


def class_labels() -> dict[int, list[tuple[str, list[str]]]]:
    """ImageNet index → [(label name, parents)]. A class can feed several labels (e.g. a tower that is
    a lighthouse); parents are merged for names listed more than once."""
    parents: dict[str, list[str]] = {}
    by_class: dict[int, list[str]] = {}
    for name, ps, spec in TABLE:
        merged = parents.setdefault(name, [])
        merged.extend(p for p in ps if p not in merged)
        for i in _indices(spec):
            names = by_class.setdefault(i, [])
            if name not in names:
                names.append(name)
    return {i: [(n, parents[n]) for n in names] for i, names in by_class.items()}


def parents_of(name: str) -> list[str]:
    for n, ps, _ in TABLE:
        if n == name:
            return list(ps)
    return list(HIERARCHY.get(name, []))

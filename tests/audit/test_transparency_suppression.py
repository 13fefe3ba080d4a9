"""Complementary suppression in the transparency report's breakdowns: no count under 5 can be worked out, or
even narrowed, by subtracting what is shown from the month's total."""

import random

from audit.transparency import BREAKDOWN_FIGURES, SMALL, WITHHELD, breakdown_shown


def month_with(declined: dict) -> dict:
    groups = {group: {**dict.fromkeys(BREAKDOWN_FIGURES, 0), "sent": 50, "declined": n}
              for group, n in declined.items()}
    return {"by_district": groups, **dict.fromkeys(BREAKDOWN_FIGURES, 0), "declined": sum(declined.values()),
            "sent": 50 * len(groups)}


def declined_as_published(declined: dict) -> dict:
    return {group: cells["declined"] for group, cells in breakdown_shown(month_with(declined), "district").items()}


def values_a_reader_could_infer(published: dict, total: int) -> dict:
    """For each hidden cell, every value consistent with the labels and the total: "fewer than 5" is 0 to 4,
    "withheld" says nothing, and the hidden cells add up to the total less the shown ones."""
    ranges = {g: (0, SMALL - 1) if label == "fewer than 5" else (0, total)
              for g, label in published.items() if not label.isdigit()}
    rest = total - sum(int(label) for label in published.values() if label.isdigit())
    possible = {}
    for g, (low, high) in ranges.items():
        others = [r for other, r in ranges.items() if other != g]  # integer ranges: their sums are a range too
        least, most = sum(r[0] for r in others), sum(r[1] for r in others)
        possible[g] = {v for v in range(low, high + 1) if least <= rest - v <= most}
    return possible


def test_a_small_district_is_withheld_with_the_smallest_other_and_the_rest_is_shown():
    published = declined_as_published({"Downtown": 2, "Harbor": 9, "Northeast": 30, "West": 40})

    assert published == {"Downtown": WITHHELD, "Harbor": WITHHELD, "Northeast": "30", "West": "40"}


def test_a_line_without_small_counts_or_with_a_small_total_is_shown_as_it_is():
    assert declined_as_published({"Downtown": 6, "Harbor": 9}) == {"Downtown": "6", "Harbor": "9"}
    assert declined_as_published({"Downtown": 1, "Harbor": 2}) == {"Downtown": "fewer than 5",
                                                                    "Harbor": "fewer than 5"}


def test_no_count_under_5_can_be_narrowed_from_the_total_in_any_line():
    rng = random.Random(20261128)
    for _ in range(2000):
        declined = {f"district {i}": rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12, 40])
                    for i in range(rng.randint(1, 6))}
        total = sum(declined.values())
        if total < SMALL:
            continue  # the month's total is itself "fewer than 5": nothing to subtract from
        published = declined_as_published(declined)
        possible = values_a_reader_could_infer(published, total)
        for group, count in declined.items():
            if count < SMALL:
                assert published[group] == WITHHELD, (declined, published)
                assert possible[group] >= set(range(SMALL)), (declined, published, group)
        assert sum(label.isdigit() for label in published.values()) >= len(declined) - sum(
            count < SMALL for count in declined.values()) - 1  # at most one cell of 5 or more is withheld

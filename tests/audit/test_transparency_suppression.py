"""Complementary suppression in the transparency report's breakdowns: no count under 5 can be worked out by
subtracting what is shown from the month's total, checked by trying every value the hidden cells could take."""

import itertools
import random

from audit.transparency import REQUEST_FIGURES, SMALL, WITHHELD, breakdown_shown


def month_with(declined: dict) -> dict:
    groups = {group: {**dict.fromkeys(REQUEST_FIGURES, 0), "sent": 50, "declined": n} for group, n in declined.items()}
    return {"by_district": groups, "declined": sum(declined.values()), "sent": 50 * len(groups),
            **{figure: 0 for figure in ("clips", "no_footage", "unanswered")}}


def declined_as_published(declined: dict) -> dict:
    return {group: cells["declined"] for group, cells in breakdown_shown(month_with(declined), "district").items()}


def values_a_reader_could_infer(published: dict, total: int) -> dict:
    """For each hidden cell, every value consistent with the published labels and the total."""
    hidden = [g for g, label in published.items() if not label.isdigit()]
    ranges = [range(SMALL) if published[g] == "fewer than 5" else range(SMALL, total + 1) for g in hidden]
    rest = total - sum(int(label) for label in published.values() if label.isdigit())
    possible = {g: set() for g in hidden}
    for values in itertools.product(*ranges):
        if sum(values) == rest:
            for g, v in zip(hidden, values, strict=True):
                possible[g].add(v)
    return possible


def test_one_small_district_beside_a_shown_total_withholds_the_smallest_district_that_hides_it():
    published = declined_as_published({"Downtown": 2, "Harbor": 9, "Northeast": 30, "West": 40})

    assert published == {"Downtown": "fewer than 5", "Harbor": WITHHELD, "Northeast": "30", "West": "40"}


def test_a_line_without_small_counts_or_with_a_small_total_is_shown_as_it_is():
    assert declined_as_published({"Downtown": 6, "Harbor": 9}) == {"Downtown": "6", "Harbor": "9"}
    assert declined_as_published({"Downtown": 1, "Harbor": 2}) == {"Downtown": "fewer than 5",
                                                                    "Harbor": "fewer than 5"}


def test_no_count_under_5_can_be_narrowed_from_the_total_in_any_line():
    rng = random.Random(20261128)
    for _ in range(400):
        declined = {f"district {i}": rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9, 12]) for i in range(rng.randint(1, 4))}
        total = sum(declined.values())
        published = declined_as_published(declined)
        if total < SMALL:
            continue  # the total itself is "fewer than 5": nothing to subtract from
        possible = values_a_reader_could_infer(published, total)
        exposed = [g for g, label in published.items() if label == "fewer than 5" and possible[g] != set(range(SMALL))]
        # Only a line whose every cell is hidden may still narrow one (e.g. 4 + 4 = 8): nothing more can be withheld
        assert not exposed or all(not label.isdigit() for label in published.values()), (declined, published)

"""The shared closing scene: how it cuts the references card into pages, and what it refuses."""
import pytest

from scenes.kit.recap_scene import RecapScene, page_bounds


def test_pages_cover_every_reference_once_in_order():
    assert page_bounds(9, (4,)) == [(0, 4), (4, 9)]
    assert page_bounds(9, ()) == [(0, 9)]
    assert page_bounds(12, (4, 8)) == [(0, 4), (4, 8), (8, 12)]


@pytest.mark.parametrize("cuts", [(0,), (9,), (5, 4), (4, 4), (-1,)])
def test_bad_page_cuts_are_refused(cuts):
    with pytest.raises(ValueError, match="page cuts"):
        page_bounds(9, cuts)


def test_a_lecture_recap_must_say_where_its_references_come_from():
    with pytest.raises(NotImplementedError, match="references"):
        RecapScene.references(None)

import numpy as np
import pytest

from axonseg.annotate import PointsError, parse_points, read_points


def test_imagej_points_are_one_based_slices_and_floored_pixels():
    text = " ,Area,Mean,Min,Max,X,Y,Slice\n1,0,1,1,1,250.000,255.000,22\n2,0,1,1,1,221.500,500.999,1\n"
    np.testing.assert_array_equal(parse_points(text), [[21, 255, 250], [0, 500, 221]])


def test_plain_zyx_points_are_zero_based_in_any_column_order():
    np.testing.assert_array_equal(parse_points("x,z,y\n3,0,2\n7,5,6\n"), [[0, 2, 3], [5, 6, 7]])


@pytest.mark.parametrize("text, message", [
    ("", "empty"),
    ("a,b,c\n1,2,3\n", "neither"),
    ("X,Y,Slice\n1,2,0\n", "below 1"),
    ("z,y,x\n1,nan,3\n", "not a finite number"),
    ("z,y,x\n1,abc,3\n", "not a number"),
    ("z,y,x\n-1,2,3\n", "negative"),
    ("z,y,x\n", "no points"),
])
def test_bad_point_lists_are_refused_with_the_reason(text, message):
    with pytest.raises(PointsError, match=message):
        parse_points(text, source="pts.csv")


def test_real_imagej_export(dlmbmap):
    points = read_points(dlmbmap / "example.csv")
    np.testing.assert_array_equal(points, [[21, 255, 250], [141, 500, 221], [259, 478, 162]])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(PointsError, match="no-such.csv"):
        read_points(tmp_path / "no-such.csv")

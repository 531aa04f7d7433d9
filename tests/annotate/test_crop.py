import dask.array as da
import numpy as np
import pytest
import tifffile

from axonseg.annotate import CubeOutsideVolumeError, crop_cube, crop_cubes_to_folder

VOLUME = np.arange(10 * 12 * 14, dtype=np.int32).reshape(10, 12, 14)


def test_cube_is_centred_on_the_point_numpy_and_dask():
    expected = VOLUME[3:7, 4:9, 5:11]  # centre (5, 6, 8), size (4, 5, 6): start = c - s // 2
    np.testing.assert_array_equal(crop_cube(VOLUME, (5, 6, 8), (4, 5, 6)), expected)
    np.testing.assert_array_equal(crop_cube(da.from_array(VOLUME, chunks=3), (5, 6, 8), (4, 5, 6)), expected)


def test_cube_touching_the_far_edges_is_allowed():
    np.testing.assert_array_equal(crop_cube(VOLUME, (8, 10, 12), (4, 4, 4)), VOLUME[6:10, 8:12, 10:14])


@pytest.mark.parametrize("center", [(1, 6, 7), (9, 6, 7), (5, 0, 7), (5, 6, 13)])
def test_cube_leaving_the_volume_is_refused(center):
    with pytest.raises(CubeOutsideVolumeError, match="leaves the volume"):
        crop_cube(VOLUME, center, (4, 4, 4))


def test_padding_fills_outside_and_never_wraps():
    cube = crop_cube(VOLUME, (1, 6, 7), (4, 4, 4), pad_mode="constant", pad_value=-1)
    assert cube.shape == (4, 4, 4)
    # z indices -1..2: the first plane is padding (not the volume's last plane, z=9)
    assert np.all(cube[0] == -1)
    np.testing.assert_array_equal(cube[1:], VOLUME[0:3, 4:8, 5:9])
    edge = crop_cube(VOLUME, (1, 6, 7), (4, 4, 4), pad_mode="edge")
    np.testing.assert_array_equal(edge[0], VOLUME[0, 4:8, 5:9])


def test_centre_outside_is_refused_even_with_padding():
    with pytest.raises(CubeOutsideVolumeError, match="centre is outside"):
        crop_cube(VOLUME, (10, 6, 7), (4, 4, 4), pad_mode="edge")


def test_crop_cubes_on_real_brain_slices(dlmbmap, tmp_path):
    brain = dlmbmap / "brain-example"
    # example.csv: the point at Slice 22 has a 150-cube running past the 100-slice stack
    first_point = tmp_path / "first.csv"
    first_point.write_text("X,Y,Slice\n250.000,255.000,22\n")
    out = tmp_path / "cubes"
    with pytest.raises(CubeOutsideVolumeError, match=r"\[-54:96, 180:330, 175:325\]"):
        crop_cubes_to_folder(brain, first_point, out)
    assert not out.exists()
    inside = tmp_path / "inside.csv"
    inside.write_text("z,y,x\n50,300,300\n")
    written = crop_cubes_to_folder(brain, inside, out, artifact_points_path=first_point, pad_mode="edge")
    assert [p.relative_to(out).as_posix() for p in written] == ["volumes/volume-1000.tiff",
                                                               "artifacts/volume-1000.tiff"]
    cube = tifffile.imread(out / "volumes" / "volume-1000.tiff")
    padded = tifffile.imread(out / "artifacts" / "volume-1000.tiff")
    slice_0000 = tifffile.imread(brain / "0000.tiff")
    slice_0095 = tifffile.imread(brain / "0095.tiff")
    assert cube.shape == padded.shape == (150, 150, 150) and cube.dtype == np.uint16
    np.testing.assert_array_equal(cube[0], slice_0000[225:375, 225:375])  # z 0 of cube = slice 0
    # padded cube: z -54..95, so planes 0..54 repeat slice 0000 and plane 149 is slice 0095
    np.testing.assert_array_equal(padded[0], slice_0000[180:330, 175:325])
    np.testing.assert_array_equal(padded[54], slice_0000[180:330, 175:325])
    np.testing.assert_array_equal(padded[149], slice_0095[180:330, 175:325])
    # existing files are not replaced without overwrite
    with pytest.raises(FileExistsError, match="volume-1000.tiff .* exist; nothing written"):
        crop_cubes_to_folder(brain, inside, out)


def test_crop_cubes_command_refuses_example_csv_with_exit_1(dlmbmap, tmp_path, capsys):
    from axonseg.cli.main import main as axonseg_main

    out = tmp_path / "cubes"
    code = axonseg_main(["crop-cubes", "--volume", str(dlmbmap / "brain-example"),
                         "--points", str(dlmbmap / "example.csv"), "--out", str(out), "--pad", "edge"])
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "point 2 (z,y,x (141, 500, 221)) lies outside volume" in err
    assert "point 1" not in err                    # padding covers point 1 (centre inside)

"""Reads a cohort imported from tests/io/data with h5py alone, as a user without pwas would."""
import math
import sys

import h5py
import numpy as np

path = sys.argv[1]
nan = float("nan")

with h5py.File(path, "r") as f:
    assert f.attrs["format"] == "pwas-cohort", f.attrs["format"]
    assert int(f.attrs["format_version"]) == 1
    for key in ("pwas_version", "created", "source_participants", "source_olink", "source_coding", "instance",
                "missing_codes"):
        assert isinstance(f.attrs[key], str), key
    assert f.attrs["instance"] == "0" and f.attrs["missing_codes"] == "-1,-3"

    eid = f["samples/eid"]
    assert eid.dtype == np.int64 and eid.shape == (3,)
    assert list(eid[:]) == [1000017, 1000025, 1000033]

    npx = f["proteins/npx"]
    assert npx.dtype == np.float32 and npx.shape == (3, 3), (npx.dtype, npx.shape)
    assert npx.chunks is not None and npx.chunks[0] == 3
    expected = np.array([[0.5, -1.25, nan], [nan, 2, nan], [1.75, nan, nan]], dtype=np.float32)
    assert np.array_equal(npx[:], expected, equal_nan=True), npx[:]
    assert np.array_equal(npx[:, 1], expected[:, 1], equal_nan=True)

    names = f["proteins/name"].asstr()[:]
    assert list(names) == ["GDF15", "ADM", "IL6"], names
    full = f["proteins/full_name"].asstr()[:]
    assert full[2] == "Interleukin-6 (naïve test)", full[2]
    assert h5py.check_string_dtype(f["proteins/name"].dtype).encoding == "utf-8"
    assert f["proteins/uniprot"].shape == (3,) and f["proteins/panel"].shape == (3,)

    part = f["participants"]
    assert list(part.attrs["columns"]) == ["age", "sex", "lonely", "centre", "pc1", "date_baseline"], \
        part.attrs["columns"]
    age = part["age"]
    assert age.dtype == np.float64 and age.attrs["kind"] == "numeric"
    assert list(age[:]) == [56, 63, 48]
    lonely = part["lonely"][:]
    assert lonely[0] == 1 and math.isnan(lonely[1]) and lonely[2] == 0, lonely
    assert list(part["pc1"][:]) == [-1.0, 0.25, 2.5]
    sex = part["sex"]
    assert sex.dtype == np.int32 and sex.attrs["kind"] == "categorical"
    assert list(sex.attrs["levels"]) == ["Female", "Male"] and list(sex[:]) == [0, 1, 0]
    centre = part["centre"]
    assert list(centre.attrs["levels"]) == ["11012", "11021"] and list(centre[:]) == [0, 1, 0]
    baseline = part["date_baseline"]   # days since 1970-01-01, NaN = missing
    assert baseline.dtype == np.float64 and baseline.attrs["kind"] == "date"
    days = baseline[:]
    assert days[0] == 13952 and math.isnan(days[1]) and days[2] == 14974, days
    assert str(np.datetime64("1970-01-01") + np.timedelta64(int(days[0]), "D")) == "2008-03-14"

print("ok:", path)

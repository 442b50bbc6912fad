"""The config's dtype names map to NumPy and JAX dtypes in one place."""

import jax.numpy as jnp
import numpy as np
import pytest

from pinngen.core.dtypes import DTYPES, jnp_dtype, np_dtype


def test_names_map_to_numpy_and_jax_dtypes():
    assert set(DTYPES) == {"float32", "float64"}
    assert np_dtype("float32") is np.float32 and np_dtype("float64") is np.float64
    assert jnp_dtype("float32") is jnp.float32 and jnp_dtype("float64") is jnp.float64
    assert np_dtype(None) is np.float32 and jnp_dtype(None) is jnp.float32  # specs saved before dtype existed


@pytest.mark.parametrize("name", ["float16", "double", "", 64])
def test_unknown_names_list_the_choices(name):
    with pytest.raises(ValueError, match=r"dtype=.*; choose one of \['float32', 'float64'\]"):
        np_dtype(name)
    with pytest.raises(ValueError, match="choose one of"):
        jnp_dtype(name)

"""Reading pickles that hold only numpy arrays and plain containers, without running their code."""

import io
import pickle

# numpy's array reconstruction is all an array pickle needs; lists, dicts, strings and numbers
# are built by the pickle machinery itself, without looking up any class. Python 3 writes bytes
# into protocol-2 pickles as `_codecs.encode(text, "latin1")`, which only encodes text.
ALLOWED = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class _ArrayUnpickler(pickle.Unpickler):
    """Admits only numpy's array reconstruction, so the pickle cannot run other code."""

    def find_class(self, module: str, name: str) -> type:
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data pickle")
        return super().find_class(module.replace("numpy.core", "numpy._core"), name)


def safe_load(data: bytes) -> object:
    """Unpickle `data` (already decompressed) with the restricted unpickler."""
    return _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()

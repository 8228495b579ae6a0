"""Names that moved out of a2mm/models modules, or were renamed, keep their
old import paths as aliases of the new objects."""
from a2mm.models.backbones import a2_inserted, insertion
from a2mm.utils import input_shape


def test_a2_inserted_keeps_the_insertion_names():
    assert a2_inserted.UnknownPositionError is insertion.UnknownPositionError
    assert a2_inserted.find_output_shapes is insertion.find_output_shapes
    assert a2_inserted.default_dry_run_shape is input_shape.guess_input_shape
    assert set(a2_inserted.__all__) >= {
        'A2Inserted', 'UnknownPositionError', 'find_output_shapes',
        'default_dry_run_shape'
    }


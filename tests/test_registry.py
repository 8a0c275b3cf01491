import pytest

from text3d.errors import InputError
from text3d.registry import DuplicateNameError, Registry


def test_register_get_and_duplicates():
    reg: Registry[object] = Registry("widget", packages=())

    @reg.register("a")
    class A:
        pass

    assert reg.get("a") is A and reg.names() == ["a"]
    assert isinstance(reg.create("a"), A)
    with pytest.raises(DuplicateNameError):
        @reg.register("a")
        class B:
            pass
    with pytest.raises(InputError, match="unknown widget 'zzz'"):
        reg.get("zzz")

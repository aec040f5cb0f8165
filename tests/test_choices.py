"""Unknown names get the valid values and a "did you mean": the helper and every enum-like argument."""

from __future__ import annotations

import pytest

from xnn import backend, compat, validation
from xnn.choices import close_matches, did_you_mean, valid_and_suggestion
from xnn.models import FullyConnectedNet


def test_close_matches():
    rules = ["sgd", "sgd_momentum", "sgd_nesterov_momentum", "rmsprop", "adam", "adagrad"]
    assert close_matches("adamw", rules) == ["adam"]
    assert close_matches("ADAM", rules) == ["adam"]  # case does not matter
    assert close_matches("lr", ["learning_rate", "momentum"]) == ["learning_rate"]  # initials
    assert close_matches("zzz", rules) == [] and close_matches(3, rules) == []
    assert did_you_mean("rmsprp", rules) == 'did you mean "rmsprop"?'
    assert did_you_mean("zzz", rules) == ""
    assert valid_and_suggestion("x", [None, "a"]) == 'valid values: None, "a"'


@pytest.mark.parametrize("call, message", [
    (lambda: backend.resolve_device("gpus"),
     "unknown device 'gpus'; expected one of 'cpu', 'gpu', 'cuda', 'auto'; did you mean \"gpu\"?"),
    (lambda: compat.alias("cs231n", flavor="cs812"),
     "alias: unknown flavor 'cs812'; choose one of ['cs182', 'cs231n', 'ece147']; did you mean \"cs182\"?"),
    (lambda: validation.check_mode("dropout_forward", "dropout", "trian"),
     'dropout_forward: Invalid forward dropout mode "trian"; expected "train" or "test"; did you mean "train"?'),
    (lambda: FullyConnectedNet([3], normalization="batchnrom"),
     "FullyConnectedNet: unknown normalization 'batchnrom'; valid values: None, \"batchnorm\", \"layernorm\"; "
     "did you mean \"batchnorm\"?"),
])
def test_enum_like_arguments(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message

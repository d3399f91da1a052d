"""The lab tasks' --lab and --subnet: malformed ones are refused before anything is created."""

import pytest
from invoke.exceptions import Exit

from vpskit.cli.lab_tasks import _lab


@pytest.mark.parametrize("name, subnet", [("Bad", "10.213.0"), ("toolongname", "10.213.0"), ("lab;rm", "10.213.0"),
                                          ("lab", "10.213"), ("lab", "10.213.300"), ("lab", "10.213.0.0")])
def test_malformed_lab_names_and_subnets_are_refused(name, subnet, capsys):
    with pytest.raises(Exit):
        _lab(name, subnet)
    assert "lab" in capsys.readouterr().err


def test_a_second_lab_gets_its_own_bridge_and_gateway():
    lab = _lab("molecule", "10.213.40")
    assert (lab.bridge, lab.gateway) == ("vpskit-molecule", "10.213.40.1")
    assert str(lab.state_dir).endswith("/molecule")

/** torchrun.py of an exported PyTorch project: torch's own launcher with one fix for PyTorch 1.13
 *  on Python 3.11 (Debian 12's python3-torch), where plain torchrun fails before starting a process. */
export const TORCHRUN_PY = String.raw`"""torchrun, for PyTorch 1.13 on Python 3.11 (Debian 12's python3-torch).

  python3 torchrun.py --nproc_per_node N train.py      same arguments as torchrun

There, plain torchrun stops before starting a worker ("'NoneType' object has no attribute 'get'"):
its Std.from_str looks the value up by iterating the IntFlag Std, and Python 3.11's iteration skips
the zero member NONE — the default. This is torch.distributed.run's own main with from_str looking
values up directly; everything else is torchrun. With PyTorch 2 or Python 3.10, use torchrun.
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api


def from_str(vm):
    if re.match(api._VALUE_REGEX, vm):
        return api.Std(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(':') for m in vm.split(','))}
    raise ValueError(f'{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>')


api.Std.from_str = staticmethod(from_str)

from torch.distributed.run import main  # noqa: E402  (after the fix)

if __name__ == '__main__':
    sys.exit(main())
`;

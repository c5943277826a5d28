"""fastgd on a Dask cluster: the same methods, exact where they can be, for data that outgrow one machine.

Optional: needs ``pip install 'fastgd[distributed]'`` (dask, distributed,
zarr); ``import fastgd`` never imports dask.

* data: :func:`make_regression` (dask arrays generated on the workers, equal
  to :func:`fastgd.make_regression` bit for bit), :func:`save` / :func:`load`
  (zarr), :func:`from_array` (in-memory data shipped once for many fits);
* training: :func:`fit` (-> :class:`fastgd.FitResult`): full batch
  bit-identical to :func:`fastgd.fit`, mini-batch methods as local SGD;
* the cluster: :func:`local_cluster` (the embedded default), or any
  ``distributed.Client`` passed as ``client=``.
"""

from ._group import WorkerLostError
from .cluster import local_cluster
from .data import from_array, load, make_regression, save
from .training import fit

__all__ = ["WorkerLostError", "fit", "from_array", "load", "local_cluster", "make_regression", "save"]

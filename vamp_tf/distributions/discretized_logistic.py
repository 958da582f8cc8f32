"""DiscretizedLogistic: a logistic density integrated over the 256 bins of [0, 1], the likelihood the
VampPrior paper (Tomczak & Welling, AISTATS 2018) uses for gray images, as a TFP distribution.
Unlike the reference code, the edge bins take the tails, so the bin probabilities sum to one.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from tensorflow_probability.python.distributions import distribution as distribution_lib
from tensorflow_probability.python.internal import dtype_util

tfd = tfp.distributions


class DiscretizedLogistic(distribution_lib.AutoCompositeTensorDistribution):
    """A logistic distribution discretized onto `num_bins` equal bins of [0, 1].

    Bin k (k = 0, ..., num_bins - 1) covers [k / num_bins, (k + 1) / num_bins); the first
    bin extends to -inf and the last to +inf, so the bin probabilities sum to one. A
    value x in [0, 1] falls in bin min(floor(x * num_bins), num_bins - 1): both the
    pixel grid p / 255 and the bin centres map to bin p. Samples are returned on the
    grid k / (num_bins - 1), i.e. p / 255 for 256 bins.

    log_prob uses the exact, numerically stable identity
      sigmoid(b) - sigmoid(a) = sigmoid(b) * sigmoid(-a) * (1 - exp(a - b)),
    so no difference of two nearly equal probabilities is ever formed.

    Args:
      loc: float tensor, the logistic's location on the [0, 1] scale.
      log_scale: float tensor broadcastable with loc, the log of the logistic's scale.
      num_bins: number of bins (>= 2); 256 for 8-bit images.
      probability_floor: 0 (exact, the default) or c > 0: log_prob is log(P(bin) + c), as the
        paper's code scores every pixel (log(P + 1e-7)). A pixel whose bin probability falls
        well below c then costs at most -log(c) (16.1 nats at 1e-7) and passes almost no
        gradient back (the factor P / (P + c)); no longer a normalised distribution.

    batch_shape = broadcast(loc.shape, log_scale.shape); event_shape = [].

    It is TFP's quantized logistic on the pixel grid: with 256 bins, P(value = p / 255) is
    `tfd.QuantizedDistribution(tfd.Logistic(256 * loc - 1, 256 * exp(log_scale)), low=0,
    high=255).prob(p)` (tests/distributions_test.py), computed without the difference of two
    CDFs. Like TFP's own distributions it is a composite tensor (AutoCompositeTensor): it can be
    returned from a tf.function and passed through tf.nest / tf.data.
    """

    def __init__(self, loc, log_scale, num_bins: int = 256, probability_floor: float = 0.0,
                 validate_args: bool = False, allow_nan_stats: bool = True, name: str = "DiscretizedLogistic"):
        parameters = dict(locals())
        if int(num_bins) < 2:
            raise ValueError(f"num_bins={num_bins!r} is invalid; it must be >= 2.")
        if not 0.0 <= float(probability_floor) < 1.0:
            raise ValueError(f"probability_floor={probability_floor!r} is invalid; it must be in [0, 1) "
                             "(0: the exact log-probability).")
        self._probability_floor = float(probability_floor)
        with tf.name_scope(name) as name:
            dtype = dtype_util.common_dtype([loc, log_scale], dtype_hint=tf.float32)  # float64 stays float64
            self._loc = tf.convert_to_tensor(loc, dtype=dtype, name="loc")
            self._log_scale = tf.convert_to_tensor(log_scale, dtype=dtype, name="log_scale")
            self._num_bins = int(num_bins)
            super().__init__(
                dtype=self._loc.dtype,
                reparameterization_type=tfd.NOT_REPARAMETERIZED,
                validate_args=validate_args,
                allow_nan_stats=allow_nan_stats,
                parameters=parameters,
                name=name)

    @classmethod
    def _parameter_properties(cls, dtype, num_classes=None):
        return dict(loc=tfp.util.ParameterProperties(),
                    log_scale=tfp.util.ParameterProperties())

    @property
    def loc(self):
        return self._loc

    @property
    def log_scale(self):
        return self._log_scale

    @property
    def num_bins(self) -> int:
        return self._num_bins

    def _event_shape(self):
        return tf.TensorShape([])

    def _event_shape_tensor(self):
        return tf.constant([], dtype=tf.int32)

    def _bin_index(self, x):
        k = tf.floor(x * self._num_bins)
        return tf.clip_by_value(k, 0.0, self._num_bins - 1.0)

    def _log_prob(self, x):
        x = tf.convert_to_tensor(x, dtype=self.dtype)
        if self.validate_args:
            x = tf.debugging.assert_all_finite(x, "DiscretizedLogistic: x must be finite.")
        k = self._bin_index(x)
        inv_scale = tf.exp(-self._log_scale)
        a = (k / self._num_bins - self._loc) * inv_scale          # lower edge, standardised
        b = ((k + 1.0) / self._num_bins - self._loc) * inv_scale  # upper edge, standardised
        first, last = k <= 0.0, k >= self._num_bins - 1.0
        log_cdf_upper = tf.where(last, tf.zeros_like(b), -tf.nn.softplus(-b))  # log sigmoid(b)
        log_sf_lower = tf.where(first, tf.zeros_like(a), -tf.nn.softplus(a))   # log sigmoid(-a)
        width = inv_scale / self._num_bins                                     # b - a > 0
        log_width_term = tf.where(first | last, tf.zeros_like(a),
                                  tf.math.log(-tf.math.expm1(-width)))
        log_p = log_cdf_upper + log_sf_lower + log_width_term
        if not self._probability_floor:
            return log_p
        log_floor = tf.constant(np.log(self._probability_floor), log_p.dtype)  # log(P + c), stably
        return tf.maximum(log_p, log_floor) + tf.math.log1p(tf.exp(-tf.abs(log_p - log_floor)))

    def _sample_n(self, n, seed=None):
        seed = tfp.random.sanitize_seed(seed, salt="DiscretizedLogistic")
        shape = tf.concat([[n], self._batch_shape_tensor()], axis=0)
        u = tf.random.stateless_uniform(shape, seed=seed, minval=np.finfo(np.float32).tiny,
                                        maxval=1.0, dtype=self.dtype)
        return self.sample_from_uniform(u)

    def sample_from_uniform(self, u):
        """The value (on the grid k / (num_bins - 1)) at uniform noise u in [0, 1), by the
        logistic's inverse CDF: a deterministic sample, broadcast with the batch shape."""
        u = tf.clip_by_value(tf.convert_to_tensor(u, self.dtype), np.finfo(np.float32).tiny, 1.0 - 2.0 ** -24)
        y = self._loc + tf.exp(self._log_scale) * (tf.math.log(u) - tf.math.log1p(-u))
        return self._bin_index(y) / (self._num_bins - 1.0)

    def _mean(self):
        # E[value] = sum_{j=1}^{K-1} P(bin >= j) / (K - 1), P(bin >= j) = sigmoid((loc - j/K) / s).
        edges = tf.range(1, self._num_bins, dtype=self.dtype) / self._num_bins
        z = (self._loc[..., tf.newaxis] - edges) * tf.exp(-self._log_scale)[..., tf.newaxis]
        return tf.reduce_sum(tf.sigmoid(z), axis=-1) / (self._num_bins - 1.0)

    def _cdf(self, x):
        # P(value <= x) for values on the grid k / (num_bins - 1): P(bin <= j), j = floor(x * (K - 1)),
        # which is sigmoid(((j + 1) / K - loc) / s) (0 below the grid, 1 from its last point on).
        x = tf.convert_to_tensor(x, dtype=self.dtype)
        j = tf.floor(x * (self._num_bins - 1.0) + 1e-4)  # grid points p / 255 exactly, despite rounding
        upper = tf.sigmoid(((j + 1.0) / self._num_bins - self._loc) * tf.exp(-self._log_scale))
        return tf.where(j < 0.0, tf.zeros_like(upper), tf.where(j >= self._num_bins - 1.0, tf.ones_like(upper), upper))

    def _mode(self):
        # The most probable value on the grid k / (num_bins - 1) (the edge bins hold the tails).
        k = tf.argmax(self.bin_probabilities(), axis=-1)
        return tf.cast(k, self.dtype) / (self._num_bins - 1.0)

    def bin_probabilities(self):
        """P(bin k) for every bin: [*batch_shape, num_bins] (sums to one)."""
        values = tf.range(self._num_bins, dtype=self.dtype) / (self._num_bins - 1.0)
        values = tf.reshape(values, [self._num_bins] + [1] * len(self.batch_shape))
        return tf.experimental.numpy.moveaxis(tf.exp(self.log_prob(values)), 0, -1)

"""Sample quality computed by the project: a feature classifier trained here, and metrics in its feature space.

- :func:`evaluate_samples`: Fréchet distance, improved precision/recall (Kynkäänniemi et al. 2019),
  density/coverage (Naeem et al. 2020) and the class histogram of generated images, beside the real-vs-real
  reference at the same N; :func:`format_metrics` prints it as a short table (``pinngen evaluate-samples``).
- :func:`feature_classifier`: the data set's CNN feature classifier, trained once with ``fit`` and cached
  under ``$PINNGEN_CACHE/feature-classifier`` (``~/.cache/pinngen``); its test accuracy is reported.
- :func:`frechet_distance`, :func:`frechet_distance_features`, :func:`prdc`: the metrics on any features.
- :func:`per_class_gaussian_samples`, :func:`pixel_gaussian_samples`, :func:`uniform_noise_samples`: the
  calibration baselines (bench/sample_metrics_calibration.py).
"""

from .baselines import per_class_gaussian_samples, pixel_gaussian_samples, uniform_noise_samples
from .cache import DEFAULT_CONFIGS, feature_classifier, load_classifier, save_classifier
from .command import evaluate_sample_file
from .evaluate import METRICS, as_images, evaluate_samples, format_metrics
from .features import FeatureClassifier, FeatureCNN, FeatureNetConfig, train_feature_classifier
from .frechet import frechet_distance, frechet_distance_features, gaussian_stats
from .prdc import knn_radii, prdc

__all__ = [
    "DEFAULT_CONFIGS",
    "METRICS",
    "FeatureCNN",
    "FeatureClassifier",
    "FeatureNetConfig",
    "as_images",
    "evaluate_sample_file",
    "evaluate_samples",
    "feature_classifier",
    "format_metrics",
    "frechet_distance",
    "frechet_distance_features",
    "gaussian_stats",
    "knn_radii",
    "load_classifier",
    "per_class_gaussian_samples",
    "pixel_gaussian_samples",
    "prdc",
    "save_classifier",
    "train_feature_classifier",
    "uniform_noise_samples",
]

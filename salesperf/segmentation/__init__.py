"""Customer segmentation: RFM segments (English eleven and Chinese eight classes), status, value tiers, behavioural
clusters, migration, profiles, next-product suggestions and the customer export table.

Engine-side functions (``*_sql``) take a DuckDB connection holding the canonical ``orders`` (and optional
``customers``, ``opportunities``, ``activities``, ``feedback``) relations and return aggregated frames; everything
else is pure. Rules live in ``salesperf/conf/segments.yml`` (:func:`load_rules`).
"""

from salesperf.segmentation.analysis import SegmentationAnalysis, segmentation_analysis
from salesperf.segmentation.clusters import (
    BehaviourClusters,
    ClusterResult,
    cluster_customers,
    describe_clusters,
)
from salesperf.segmentation.export import EXPORT_COLUMNS, customer_table
from salesperf.segmentation.features import customer_features_sql
from salesperf.segmentation.migration import Migration, migration
from salesperf.segmentation.profiles import group_profiles
from salesperf.segmentation.rfm import (
    RfmSegmentation,
    assign_cn8,
    assign_segments,
    cn8_thresholds,
    rank_scores,
    rfm_from_orders,
    rfm_scores,
    rfm_sql,
    score_distribution,
    segment_rfm,
    segment_summary,
)
from salesperf.segmentation.rules import SegmentRules, load_rules, rules_from_dict
from salesperf.segmentation.status import (
    CustomerStatus,
    customer_status,
    status_inputs_from_orders,
    status_inputs_sql,
)
from salesperf.segmentation.suggest import (
    CoPurchaseSuggester,
    Incidence,
    SuggestionEvaluation,
    evaluate_suggestions,
    incidence_from_pairs,
    incidence_sql,
)
from salesperf.segmentation.value import (
    AbcTiers,
    Grades,
    abc_tiers,
    grade_customers,
    revenue_growth,
    window_revenue_sql,
)

__all__ = [
    "EXPORT_COLUMNS",
    "AbcTiers",
    "BehaviourClusters",
    "ClusterResult",
    "CoPurchaseSuggester",
    "CustomerStatus",
    "Grades",
    "Incidence",
    "Migration",
    "RfmSegmentation",
    "SegmentRules",
    "SegmentationAnalysis",
    "SuggestionEvaluation",
    "abc_tiers",
    "assign_cn8",
    "assign_segments",
    "cluster_customers",
    "cn8_thresholds",
    "customer_features_sql",
    "customer_status",
    "customer_table",
    "describe_clusters",
    "evaluate_suggestions",
    "grade_customers",
    "group_profiles",
    "incidence_from_pairs",
    "incidence_sql",
    "load_rules",
    "migration",
    "rank_scores",
    "revenue_growth",
    "rfm_from_orders",
    "rfm_scores",
    "rfm_sql",
    "rules_from_dict",
    "score_distribution",
    "segment_rfm",
    "segment_summary",
    "segmentation_analysis",
    "status_inputs_from_orders",
    "status_inputs_sql",
    "window_revenue_sql",
]

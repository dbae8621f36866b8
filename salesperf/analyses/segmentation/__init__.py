"""Customer segmentation: RFM segments (English eleven and Chinese eight classes), status, value tiers, behavioural
clusters, migration, profiles, next-product suggestions and the customer export table.

Engine-side functions (``*_sql``) take a DuckDB connection holding the canonical ``orders`` (and optional
``customers``, ``opportunities``, ``activities``, ``feedback``) relations and return aggregated frames; everything
else is pure. :func:`customer_base_sql` computes every per-customer aggregate of a period (both dates) in one query;
the single-section ``*_sql`` functions run parts of the same query. Rules live in ``salesperf/conf/segments.yml``
(:func:`load_rules`). Every function that writes sentences takes ``lang`` ('en' or 'zh').
"""

from salesperf.analyses.segmentation.analysis import SegmentationAnalysis, segmentation_analysis
from salesperf.analyses.segmentation.base import AggregateQuery, CustomerBase, customer_base_sql
from salesperf.analyses.segmentation.clusters import (
    BehaviourClusters,
    ClusterResult,
    cluster_customers,
    cluster_sentences,
    describe_clusters,
    prediction_strength,
)
from salesperf.analyses.segmentation.export import EXPORT_COLUMNS, customer_table
from salesperf.analyses.segmentation.features import customer_features_sql
from salesperf.analyses.segmentation.migration import Migration, migration, migration_sentences
from salesperf.analyses.segmentation.profiles import group_profiles
from salesperf.analyses.segmentation.rfm import (
    RfmSegmentation,
    assign_cn8,
    assign_segments,
    cn8_thresholds,
    rank_scores,
    rfm_from_orders,
    rfm_scores,
    rfm_sentences,
    rfm_sql,
    score_distribution,
    segment_rfm,
    segment_summary,
)
from salesperf.analyses.segmentation.rules import SegmentRules, load_rules, rules_from_dict
from salesperf.analyses.segmentation.status import (
    CustomerStatus,
    customer_status,
    status_inputs_from_orders,
    status_inputs_sql,
    status_sentences,
)
from salesperf.analyses.segmentation.suggest import (
    CoPurchaseSuggester,
    Incidence,
    PurchasePairs,
    SuggestionEvaluation,
    evaluate_suggestions,
    incidence_from_pairs,
    incidence_sql,
    purchase_pairs_sql,
    suggestion_sentence,
)
from salesperf.analyses.segmentation.value import (
    AbcTiers,
    Grades,
    abc_sentence,
    abc_tiers,
    grade_customers,
    grades_sentences,
    revenue_growth,
    window_revenue_sql,
)

__all__ = [
    "EXPORT_COLUMNS",
    "AbcTiers",
    "AggregateQuery",
    "BehaviourClusters",
    "ClusterResult",
    "CoPurchaseSuggester",
    "CustomerBase",
    "CustomerStatus",
    "Grades",
    "Incidence",
    "Migration",
    "PurchasePairs",
    "RfmSegmentation",
    "SegmentRules",
    "SegmentationAnalysis",
    "SuggestionEvaluation",
    "abc_sentence",
    "abc_tiers",
    "assign_cn8",
    "assign_segments",
    "cluster_customers",
    "cluster_sentences",
    "cn8_thresholds",
    "customer_base_sql",
    "customer_features_sql",
    "customer_status",
    "customer_table",
    "describe_clusters",
    "evaluate_suggestions",
    "grade_customers",
    "grades_sentences",
    "group_profiles",
    "incidence_from_pairs",
    "incidence_sql",
    "load_rules",
    "migration",
    "migration_sentences",
    "prediction_strength",
    "purchase_pairs_sql",
    "rank_scores",
    "revenue_growth",
    "rfm_from_orders",
    "rfm_scores",
    "rfm_sentences",
    "rfm_sql",
    "rules_from_dict",
    "score_distribution",
    "segment_rfm",
    "segment_summary",
    "segmentation_analysis",
    "status_inputs_from_orders",
    "status_inputs_sql",
    "status_sentences",
    "suggestion_sentence",
    "window_revenue_sql",
]

# Load a published tierdrift dataset's Parquet tables from S3 into KumoRFM and into RelBench.
# Written against kumoai 2.23.0.dev0's `kumoai.rfm` (LocalTable / Graph / KumoRFM, as in the
# kumo-sdk API reference; older releases have the same classes under `kumoai.experimental.rfm`)
# and relbench 1.1 (`relbench.base.Database` / `Table`).
# Not run by the project's tests (no Python there); test/load-dataset-doc.test.ts checks that every
# table, key, link and time column named below is the one schema.json declares.
# The dataset must have been generated with "formats": ["csv", "parquet"] (and tasks enabled).
# pip install kumoai relbench pandas pyarrow s3fs
import json

import pandas as pd
import s3fs

DATASET = "s3://my-bucket/tierdrift/seed=42/64b933b2f8b3cc03"  # a dataset folder: it has manifest.json
fs = s3fs.S3FileSystem()  # the usual AWS credentials and region

schema = json.loads(fs.cat(f"{DATASET}/schema.json"))
tables = {t["name"]: t for t in schema["tables"]}


def load(name):
    """A table from its Parquet folder (all its parts): typed columns, timestamps as naive UTC, an empty end time as NaT."""
    return pd.read_parquet(f"{DATASET}/parquet/{name}/")  # s3fs reads s3:// for pandas


dfs = {name: load(name) for name in tables}
task = schema["tasks"][0]  # upload_50gb_next_hour
task_rows = dfs[task["table"]]

# ---- KumoRFM ---------------------------------------------------------------------------------
import kumoai.rfm as rfm

rfm.init(api_key="YOUR_API_KEY")  # or set KUMO_API_KEY and call rfm.init()

# KumoRFM takes at most one primary key per table: tiers' key (user_id, from_datetime) is
# composite, so tiers gets none. Its rows are validity intervals: from_datetime is the time
# column, until_datetime (exclusive) the end-time column; an empty end time (openEndedTiers)
# is an interval still in effect.
users = rfm.LocalTable(dfs["users"], name="users", primary_key="user_id")
tiers = rfm.LocalTable(dfs["tiers"], name="tiers", primary_key=None, time_column="from_datetime", end_time_column="until_datetime")
items = rfm.LocalTable(dfs["items"], name="items", primary_key="item_id")
uploads = rfm.LocalTable(dfs["uploads"], name="uploads", primary_key="txn_id", time_column="datetime")

# truth_users and the task table stay out of the graph: they hold the answers.
graph = rfm.Graph(tables=[users, tiers, items, uploads])
graph.link(src_table="tiers", fkey="user_id", dst_table="users")
graph.link(src_table="uploads", fkey="user_id", dst_table="users")
graph.link(src_table="uploads", fkey="item_id", dst_table="items")
graph.validate()

model = rfm.KumoRFM(graph)
# The task's PQL for every user (FOR EACH), the users given as indices: the label counts uploads of
# item 2, the 50 GB item, in (anchor_time, anchor_time + 1 h], as PQL's windows do.
query = task["pql"].replace("FOR users.user_id = {user_id}", "FOR EACH users.user_id")
test = task_rows[task_rows["split"] == "test"]
# A grid anchor of the test split: every user has a row at it. Batch mode splits the users into
# requests of the largest size the task allows (one call, not a loop of single queries).
anchor_time = test["anchor_time"].value_counts().idxmax()
rows = test[test["anchor_time"] == anchor_time]
with model.batch_mode(batch_size="max", num_retries=1):
    prediction = model.predict(query, indices=rows["user_id"].tolist(), anchor_time=anchor_time, run_mode="fast")
# ENTITY is the user id; True_PROB the probability of a positive label.
scored = rows.merge(prediction.rename(columns={"ENTITY": "user_id"}), on="user_id")
print(scored[["user_id", "scenario", "label", "oracle_probability", "True_PROB"]])
# Predictions in the format `tierdrift evaluate --predictions` scores (against the oracle too).
scored.rename(columns={"True_PROB": "probability"})[["user_id", "anchor_time", "probability"]].to_csv(
    "kumorfm.csv", index=False, date_format=schema["timestampFormat"]
)
# KumoRFM's own estimate of its quality at that anchor, from in-context examples before it.
print(model.evaluate(query, indices=rows["user_id"].tolist(), anchor_time=anchor_time, run_mode="fast"))

# ---- RelBench-style --------------------------------------------------------------------------
from relbench.base import Database, Table

# A RelBench table has one time column and no end-time column: a tiers row becomes visible at
# from_datetime with its until_datetime, which may lie after the anchor (a leak of the next tier
# change). Drop it; the tier in force at t is the user's last tiers row with from_datetime <= t.
# (Each Parquet file also carries RelBench's pkey_col / fkey_col_to_pkey_table / time_col metadata,
# so Table.load reads a part file as is; that keeps until_datetime.)
db = Database(
    table_dict={
        "users": Table(dfs["users"], fkey_col_to_pkey_table={}, pkey_col="user_id"),
        "tiers": Table(dfs["tiers"].drop(columns=["until_datetime"]), fkey_col_to_pkey_table={"user_id": "users"}, pkey_col=None, time_col="from_datetime"),
        "items": Table(dfs["items"], fkey_col_to_pkey_table={}, pkey_col="item_id"),
        "uploads": Table(dfs["uploads"], fkey_col_to_pkey_table={"user_id": "users", "item_id": "items"}, pkey_col="txn_id", time_col="datetime"),
    }
)

# The task table per split (splits by anchor_time; schema.json lists their boundaries).
split_tables = {
    split["name"]: Table(
        task_rows[task_rows["split"] == split["name"]][["user_id", "anchor_time", "label"]].reset_index(drop=True),
        fkey_col_to_pkey_table={"user_id": "users"},
        pkey_col=None,
        time_col="anchor_time",
    )
    for split in task["splits"]
}
# Each row is predicted from what was known at its own anchor_time: sample only rows whose time
# column is <= anchor_time (RelBench's temporal neighbour sampling does). Unlike RelBench's
# built-in tasks, a split here spans many anchor times, not one timestamp.

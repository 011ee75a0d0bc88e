# Load a published tierdrift dataset from S3 into KumoRFM and into RelBench-style tables.
# Written against kumoai's `kumoai.experimental.rfm` API (LocalTable / LocalGraph / KumoRFM, as in
# the kumo-sdk API reference) and relbench 1.1 (`relbench.base.Database` / `Table`).
# Not run by the project's tests (no Python there); test/load-dataset-doc.test.ts checks that every
# table, key, link and time column named below is the one schema.json declares.
# pip install boto3 pandas kumoai relbench
import io
import json

import boto3
import pandas as pd

BUCKET = "my-bucket"
PREFIX = "tierdrift/seed=42/720719fc1c192748"  # a dataset folder: it has manifest.json
s3 = boto3.client("s3")  # the usual AWS credentials and region


def read_bytes(name):
    return s3.get_object(Bucket=BUCKET, Key=f"{PREFIX}/{name}")["Body"].read()


# Or from the API's answer (POST /datasets, GET /datasets/{id}), with its presigned URLs:
#   urls = {f["name"]: f["url"] for f in answer["files"]}
#   read_bytes = lambda name: urllib.request.urlopen(urls[name]).read()

schema = json.loads(read_bytes("schema.json"))
tables = {t["name"]: t for t in schema["tables"]}


def load(name):
    """A table as a DataFrame; timestamps as naive UTC datetimes, an empty end time as NaT."""
    table = tables[name]
    df = pd.read_csv(io.BytesIO(read_bytes(table["file"])))
    for column in table["columns"]:
        if column["type"] == "timestamp":
            df[column["name"]] = pd.to_datetime(df[column["name"]], format="%Y-%m-%dT%H:%M:%SZ")
    return df


dfs = {name: load(name) for name in tables}
task = schema["tasks"][0]  # upload_50gb_next_hour
task_rows = dfs[task["table"]]

# ---- KumoRFM ---------------------------------------------------------------------------------
import kumoai.experimental.rfm as rfm

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
graph = rfm.LocalGraph(tables=[users, tiers, items, uploads])
graph.link(src_table="tiers", fkey="user_id", dst_table="users")
graph.link(src_table="uploads", fkey="user_id", dst_table="users")
graph.link(src_table="uploads", fkey="item_id", dst_table="items")
graph.validate()

model = rfm.KumoRFM(graph)
# One prediction per task row: the task's PQL for its user, at its anchor time (the label counts
# uploads of item 2, the 50 GB item, in (anchor_time, anchor_time + 1 h], as PQL's windows do).
test = task_rows[task_rows["split"] == "test"]
for row in test.head(5).itertuples():
    query = task["pql"].format(user_id=row.user_id)
    prediction = model.predict(query, anchor_time=row.anchor_time)
    print(row.scenario, row.label, row.oracle_probability, prediction, sep="\n")

# ---- RelBench-style --------------------------------------------------------------------------
from relbench.base import Database, Table

# A RelBench table has one time column and no end-time column: a tiers row becomes visible at
# from_datetime with its until_datetime, which may lie after the anchor (a leak of the next tier
# change). Drop it; the tier in force at t is the user's last tiers row with from_datetime <= t.
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

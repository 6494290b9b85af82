CREATE TABLE "feed" (
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "feed_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"payload" jsonb NOT NULL,
	"written_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "feed_xid_id_pk" PRIMARY KEY("xid","id"),
	CONSTRAINT "feed_kind" CHECK ("feed"."kind" IN ('contact', 'calendar', 'token-revoked', 'statuses'))
);
--> statement-breakpoint
CREATE TABLE "feed_horizon" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"pruned_xid" "xid8" DEFAULT '0' NOT NULL,
	"pruned_id" bigint DEFAULT 0 NOT NULL,
	CONSTRAINT "feed_horizon_one" CHECK ("feed_horizon"."one")
);
--> statement-breakpoint
CREATE TABLE "feed_readers" (
	"reader" text PRIMARY KEY NOT NULL,
	"watermark" "xid8" NOT NULL,
	"seen_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL
);
--> statement-breakpoint
-- The prune's one row (server/cluster/feed.ts): a follower compares its position with it.
INSERT INTO "feed_horizon" DEFAULT VALUES ON CONFLICT DO NOTHING;

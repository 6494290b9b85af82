CREATE TABLE "job_slots" (
	"job" text NOT NULL,
	"slot" text NOT NULL,
	"instance" text NOT NULL,
	"claimed_at" bigint NOT NULL,
	CONSTRAINT "job_slots_job_slot_pk" PRIMARY KEY("job","slot")
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"token" bigint NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"acquired_at" timestamp with time zone NOT NULL
);

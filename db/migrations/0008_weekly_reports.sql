CREATE TABLE `published_reports` (
	`week` text NOT NULL,
	`revision` integer NOT NULL,
	`published_at` integer NOT NULL,
	`published_by` text NOT NULL,
	`reason` text,
	`report` text NOT NULL,
	PRIMARY KEY(`week`, `revision`)
);
--> statement-breakpoint
CREATE INDEX `clocks_report_ended` ON `clocks` (`received_at`,`standard`,`standard_version`,`status`,`started_at`,`due_at`,`fulfilled_at`,`ended_at`,`counted_ms`,`contact_id`) WHERE "clocks"."open" = 0;--> statement-breakpoint
CREATE INDEX `contacts_customer_reference` ON `contacts` (json_extract(`customer`, '$.reference'),`received_at`) WHERE json_extract(`customer`, '$.reference') IS NOT NULL;--> statement-breakpoint
CREATE INDEX `events_quality` ON `events` (`contact_id`,`type`,`at`) WHERE "events"."type" IN ('resolved', 'identity-verified');--> statement-breakpoint
CREATE INDEX `events_complaint_stage` ON `events` (`type`,`at`,`contact_id`) WHERE "events"."type" IN ('escalated', 'resolved');
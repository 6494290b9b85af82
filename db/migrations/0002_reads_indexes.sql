-- Reads that scale (issue 9). Hand-edited after `drizzle-kit generate`: SQLite cannot ADD a NOT NULL
-- column without a default, so `clocks` is rebuilt with `received_at` copied from its contact (rowids
-- kept: a contact's clocks are listed in rowid order), and the expression index is written out whole
-- (drizzle-kit splits `json_extract(...)` at its comma). The old clocks indexes go with the old table.
CREATE TABLE `__new_clocks` (
	`contact_id` text NOT NULL,
	`standard` text NOT NULL,
	`received_at` integer NOT NULL,
	`standard_version` text NOT NULL,
	`calendar` text NOT NULL,
	`status` text NOT NULL,
	`open` integer NOT NULL,
	`started_at` integer NOT NULL,
	`due_at` integer,
	`at_risk_at` integer,
	`fulfilled_at` integer,
	`ended_at` integer,
	`target_ms` integer NOT NULL,
	`counted_ms` integer NOT NULL,
	`status_changed_at` integer,
	`detail` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`contact_id`, `standard`),
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
INSERT INTO `__new_clocks` (`rowid`, `contact_id`, `standard`, `received_at`, `standard_version`, `calendar`, `status`, `open`, `started_at`, `due_at`, `at_risk_at`, `fulfilled_at`, `ended_at`, `target_ms`, `counted_ms`, `status_changed_at`, `detail`, `updated_at`)
  SELECT k.`rowid`, k.`contact_id`, k.`standard`, c.`received_at`, k.`standard_version`, k.`calendar`, k.`status`, k.`open`, k.`started_at`, k.`due_at`, k.`at_risk_at`, k.`fulfilled_at`, k.`ended_at`, k.`target_ms`, k.`counted_ms`, k.`status_changed_at`, k.`detail`, k.`updated_at`
  FROM `clocks` k JOIN `contacts` c ON c.`id` = k.`contact_id` ORDER BY k.`rowid`;
--> statement-breakpoint
DROP TABLE `clocks`;--> statement-breakpoint
ALTER TABLE `__new_clocks` RENAME TO `clocks`;--> statement-breakpoint
CREATE INDEX `clocks_open_received` ON `clocks` (`received_at`,`contact_id`,`standard`,`status`,`due_at`,`at_risk_at`,`calendar`) WHERE "clocks"."open" = 1;--> statement-breakpoint
CREATE INDEX `clocks_status_received` ON `clocks` (`status`,`received_at`,`contact_id`,`standard`);--> statement-breakpoint
CREATE INDEX `clocks_standard_received` ON `clocks` (`standard`,`received_at`,`contact_id`);--> statement-breakpoint
CREATE INDEX `clocks_ended_at` ON `clocks` (`ended_at`);--> statement-breakpoint
DROP INDEX `contacts_assignee`;--> statement-breakpoint
DROP INDEX `contacts_received_at`;--> statement-breakpoint
CREATE INDEX `contacts_received_at` ON `contacts` (`received_at`,`id`,`channel`,`category`);--> statement-breakpoint
CREATE INDEX `contacts_assignee_received` ON `contacts` (`assignee`,`received_at`,`id`) WHERE "contacts"."assignee" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `contacts_social_sender` ON `contacts` (json_extract(`source`, '$.senderId'),`received_at`) WHERE "contacts"."channel" = 'social';

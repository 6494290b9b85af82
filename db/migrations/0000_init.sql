CREATE TABLE `api_tokens` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer,
	`last_used_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_name_unique` ON `api_tokens` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_tokens_token_hash_unique` ON `api_tokens` (`token_hash`);--> statement-breakpoint
CREATE TABLE `audit` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`detail` text
);
--> statement-breakpoint
CREATE INDEX `audit_at` ON `audit` (`at`);--> statement-breakpoint
CREATE TABLE `calendars` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`time_zone` text NOT NULL,
	`weekly_hours` text NOT NULL,
	`division` text NOT NULL,
	`working_day_ms` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `clocks` (
	`contact_id` text NOT NULL,
	`standard` text NOT NULL,
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
CREATE INDEX `clocks_open_due` ON `clocks` (`open`,`due_at`);--> statement-breakpoint
CREATE INDEX `clocks_open_at_risk` ON `clocks` (`open`,`at_risk_at`);--> statement-breakpoint
CREATE INDEX `clocks_standard_status` ON `clocks` (`standard`,`status`);--> statement-breakpoint
CREATE TABLE `closures` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`calendar_id` text NOT NULL,
	`from` integer NOT NULL,
	`to` integer NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`calendar_id`) REFERENCES `calendars`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `closures_calendar` ON `closures` (`calendar_id`,`from`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` text PRIMARY KEY NOT NULL,
	`channel` text NOT NULL,
	`route` text NOT NULL,
	`category` text NOT NULL,
	`initial_category` text NOT NULL,
	`external_id` text,
	`received_at` integer NOT NULL,
	`pack_family` text NOT NULL,
	`customer` text,
	`subject` text,
	`summary` text,
	`assignee` text,
	`callback` integer DEFAULT false NOT NULL,
	`content_hash` text NOT NULL,
	`source` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_channel_external_id` ON `contacts` (`channel`,`external_id`);--> statement-breakpoint
CREATE INDEX `contacts_received_at` ON `contacts` (`received_at`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_assignee` ON `contacts` (`assignee`);--> statement-breakpoint
CREATE TABLE `events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`external_id` text,
	`body` text NOT NULL,
	`received_at` integer NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE UNIQUE INDEX `events_contact_seq` ON `events` (`contact_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `events_contact_external_id` ON `events` (`contact_id`,`external_id`) WHERE "events"."external_id" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `holidays` (
	`division` text NOT NULL,
	`date` text NOT NULL,
	`title` text NOT NULL,
	PRIMARY KEY(`division`, `date`)
);

CREATE TABLE `advisor_states` (
	`platform` text NOT NULL,
	`advisor` text NOT NULL,
	`state` text NOT NULL,
	`detail` text,
	`at` integer NOT NULL,
	PRIMARY KEY(`platform`, `advisor`)
);
--> statement-breakpoint
CREATE TABLE `call_ledger` (
	`call_id` text PRIMARY KEY NOT NULL,
	`queue` text,
	`offered_at` integer,
	`answered_at` integer,
	`abandoned_at` integer,
	`ended_at` integer,
	`agent` text,
	`talk_ms` integer,
	`wrap_ms` integer,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `call_ledger_offered_at` ON `call_ledger` (`offered_at`,`queue`);--> statement-breakpoint
CREATE INDEX `call_ledger_answered_at` ON `call_ledger` (`answered_at`,`agent`);--> statement-breakpoint
CREATE TABLE `held_call_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`call_id` text NOT NULL,
	`event_key` text NOT NULL,
	`event` text NOT NULL,
	`held_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `held_call_events_key` ON `held_call_events` (`call_id`,`event_key`);--> statement-breakpoint
CREATE INDEX `held_call_events_held_at` ON `held_call_events` (`held_at`);--> statement-breakpoint
CREATE TABLE `unknown_queues` (
	`platform` text NOT NULL,
	`queue_key` text NOT NULL,
	`first_seen` integer NOT NULL,
	`last_seen` integer NOT NULL,
	`calls` integer NOT NULL,
	PRIMARY KEY(`platform`, `queue_key`)
);

CREATE TABLE `alerts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` text NOT NULL,
	`kind` text NOT NULL,
	`note` text,
	`raised_at` integer NOT NULL,
	`raised_by` text NOT NULL,
	`actioned_at` integer,
	`actioned_by` text,
	`action` text,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `alerts_open` ON `alerts` (`raised_at`,`id`) WHERE "alerts"."actioned_at" IS NULL;--> statement-breakpoint
CREATE INDEX `alerts_contact` ON `alerts` (`contact_id`,`id`);--> statement-breakpoint
CREATE TABLE `sequences` (
	`name` text NOT NULL,
	`year` integer NOT NULL,
	`value` integer NOT NULL,
	PRIMARY KEY(`name`, `year`)
);
--> statement-breakpoint
CREATE INDEX `clocks_open_due` ON `clocks` (`due_at`,`contact_id`) WHERE "clocks"."open" = 1;
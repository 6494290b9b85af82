CREATE TABLE `automatic_mail` (
	`message_id` text PRIMARY KEY NOT NULL,
	`received_at` integer NOT NULL,
	`kind` text NOT NULL,
	`marker` text NOT NULL,
	`subject` text,
	`contact_id` text,
	`reply` text,
	`recorded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `mail_cursors` (
	`folder` text PRIMARY KEY NOT NULL,
	`uid_validity` text NOT NULL,
	`last_uid` integer NOT NULL,
	`updated_at` integer NOT NULL
);

CREATE TABLE `person_keys` (
	`kind` text NOT NULL,
	`value` text NOT NULL,
	`contact_id` text NOT NULL,
	PRIMARY KEY(`kind`, `value`, `contact_id`),
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `person_keys_contact` ON `person_keys` (`contact_id`);--> statement-breakpoint
CREATE TABLE `privacy_holds` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` text NOT NULL,
	`reason` text NOT NULL,
	`placed_by` text NOT NULL,
	`placed_at` integer NOT NULL,
	`released_at` integer,
	`released_by` text,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `privacy_holds_contact` ON `privacy_holds` (`contact_id`,`released_at`);--> statement-breakpoint
ALTER TABLE `contacts` ADD `privacy` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `contacts` ADD `anonymised_at` integer;--> statement-breakpoint
CREATE INDEX `contacts_privacy_pending` ON `contacts` (`privacy`,`received_at`,`id`) WHERE "contacts"."privacy" < 2;--> statement-breakpoint
-- Backfill the person keys of the contacts already held, normalised as server/privacy/keys.ts does.
INSERT OR IGNORE INTO `person_keys` (`kind`, `value`, `contact_id`)
  SELECT 'email', lower(trim(json_extract(`customer`, '$.email'))), `id` FROM `contacts`
  WHERE json_type(`customer`, '$.email') = 'text' AND trim(json_extract(`customer`, '$.email')) <> '';--> statement-breakpoint
INSERT OR IGNORE INTO `person_keys` (`kind`, `value`, `contact_id`)
  SELECT 'reference', upper(replace(replace(trim(json_extract(`customer`, '$.reference')), ' ', ''), char(9), '')), `id` FROM `contacts`
  WHERE json_type(`customer`, '$.reference') = 'text' AND trim(json_extract(`customer`, '$.reference')) <> '';--> statement-breakpoint
INSERT OR IGNORE INTO `person_keys` (`kind`, `value`, `contact_id`)
  SELECT 'phone', CASE WHEN d LIKE '+44%' THEN '0' || substr(d, 4) WHEN d LIKE '0044%' THEN '0' || substr(d, 5) ELSE d END, id FROM (
    SELECT `id` AS id, replace(replace(replace(replace(replace(replace(replace(replace(trim(json_extract(`customer`, '$.phone')), '(0)', ''), ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '/', ''), char(9), '') AS d
    FROM `contacts` WHERE json_type(`customer`, '$.phone') = 'text'
  ) WHERE ltrim(d, '+') NOT GLOB '*[^0-9]*' AND length(ltrim(d, '+')) >= 6 AND d NOT GLOB '?*+*';--> statement-breakpoint
WITH RECURSIVE
  names(contact_id, full) AS (
    SELECT `id`, trim(replace(replace(replace(replace(replace(replace(lower(json_extract(`customer`, '$.name')), char(9), ' '), char(10), ' '), char(13), ' '), '  ', ' '), '  ', ' '), '  ', ' '))
    FROM `contacts` WHERE json_type(`customer`, '$.name') = 'text'
  ),
  words(contact_id, word, rest) AS (
    SELECT contact_id, full, full || ' ' FROM names
    UNION ALL
    SELECT contact_id, substr(rest, 1, instr(rest, ' ') - 1), substr(rest, instr(rest, ' ') + 1) FROM words WHERE rest <> ''
  )
INSERT OR IGNORE INTO `person_keys` (`kind`, `value`, `contact_id`) SELECT 'name', word, contact_id FROM words WHERE length(word) >= 2;

CREATE TABLE "bot_participant_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"participant_id" text NOT NULL,
	"kind" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bot_participant_events" ADD CONSTRAINT "bot_participant_events_participant_id_bot_participants_id_fk" FOREIGN KEY ("participant_id") REFERENCES "public"."bot_participants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bot_participant_events_participant_idx" ON "bot_participant_events" USING btree ("participant_id","id");
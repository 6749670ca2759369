CREATE TABLE "meeting_analytics" (
	"bot_id" text PRIMARY KEY NOT NULL,
	"analytics" jsonb NOT NULL,
	"computed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meeting_document_chunks" (
	"document_id" text NOT NULL,
	"seq" integer NOT NULL,
	"page" integer,
	"text" text NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
	CONSTRAINT "meeting_document_chunks_document_id_seq_pk" PRIMARY KEY("document_id","seq")
);
--> statement-breakpoint
CREATE TABLE "meeting_documents" (
	"id" text PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"filename" text NOT NULL,
	"kind" text NOT NULL,
	"content_type" text NOT NULL,
	"size_bytes" integer NOT NULL,
	"storage_key" text NOT NULL,
	"pages" integer,
	"text_chars" integer NOT NULL,
	"truncated" boolean DEFAULT false NOT NULL,
	"created_by_type" text NOT NULL,
	"created_by_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meeting_notes" (
	"id" text PRIMARY KEY NOT NULL,
	"bot_id" text NOT NULL,
	"author_type" text NOT NULL,
	"author_id" text,
	"body_sealed" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "meeting_summaries" (
	"bot_id" text PRIMARY KEY NOT NULL,
	"status" text NOT NULL,
	"content" jsonb,
	"generator" text,
	"model" text,
	"fallback_reason" text,
	"generated_at" timestamp with time zone,
	"edited_by_type" text,
	"edited_by_id" text,
	"edited_at" timestamp with time zone,
	"version" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "transcript_segments" ADD COLUMN "search_vector" "tsvector" GENERATED ALWAYS AS (to_tsvector('english', text)) STORED;--> statement-breakpoint
ALTER TABLE "meeting_analytics" ADD CONSTRAINT "meeting_analytics_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_document_chunks" ADD CONSTRAINT "meeting_document_chunks_document_id_meeting_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."meeting_documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_documents" ADD CONSTRAINT "meeting_documents_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_notes" ADD CONSTRAINT "meeting_notes_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "meeting_summaries" ADD CONSTRAINT "meeting_summaries_bot_id_bots_id_fk" FOREIGN KEY ("bot_id") REFERENCES "public"."bots"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "meeting_document_chunks_search_idx" ON "meeting_document_chunks" USING gin ("search_vector");--> statement-breakpoint
CREATE INDEX "meeting_documents_bot_idx" ON "meeting_documents" USING btree ("bot_id","id");--> statement-breakpoint
CREATE INDEX "meeting_notes_bot_idx" ON "meeting_notes" USING btree ("bot_id","id");--> statement-breakpoint
CREATE INDEX "transcript_segments_search_idx" ON "transcript_segments" USING gin ("search_vector");
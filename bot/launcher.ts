/**
 * Where a bot runs. The in-process launcher runs it inside this worker process (the default
 * pool); a container launcher (one Kubernetes Job per bot) implements the same port.
 */
import { runBot, type BotRunResult, type BotRuntime } from './run-bot.js';

export interface BotLauncher {
  /** Runs the bot to its end; resolves with whether its job should be retried. */
  run(botId: string, signal: AbortSignal): Promise<BotRunResult>;
}

export class InProcessLauncher implements BotLauncher {
  constructor(private readonly runtime: BotRuntime) {}

  run(botId: string, signal: AbortSignal): Promise<BotRunResult> {
    return runBot(this.runtime, botId, signal);
  }
}

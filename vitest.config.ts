import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { isInfoLog } from "./test/log-filter";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // The Worker logs a JSON line per request and per engine step: in tests only its warnings and
      // errors are shown, so a run's output is the test report. (A root option: projects ignore it.)
      onConsoleLog: (log: string) => !isInfoLog(log),
      projects: [
        {
          // Everything that needs the Worker: routes, objects, queues, e2e — inside workerd.
          plugins: [
            cloudflareTest({
              main: "./src/index.ts",
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // Test-only bindings and secrets (never read from .dev.vars here).
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  ENVIRONMENT: "test",
                  ADMIN_TOKEN: "test-admin-token",
                  SECRETS_ENCRYPTION_KEY: "dGVzdC1vbmx5LWVuY3J5cHRpb24ta2V5LTMyLWJ5dGU=",
                  PUBLIC_BASE_URL: "https://calls.example.test",
                  SIM_CALL_SECONDS: "0",
                  // The simulated agent's results (a callback two hours later for numbers ending 2) are on
                  // only in the tests that turn them on (test/durable/simulated-carrier.test.ts).
                  SIM_RESULTS: "off",
                  TWILIO_ACCOUNT_SID: "ACtest",
                  TWILIO_AUTH_TOKEN: "twilio-test-token",
                  TWILIO_API_BASE_URL: "https://twilio.example.test",
                },
              },
            }),
          ],
          test: {
            name: "workerd",
            include: ["test/**/*.test.ts"],
            exclude: ["test/domain/**", "test/lib/**", "test/telephony/**", "test/public/**", "test/scripts/**", "test/project/**", "test/layers.test.ts"],
            setupFiles: ["./test/apply-migrations.ts"],
          },
        },
        {
          // Code that needs no Worker (domain rules, lib helpers, each provider's report parsing): plain Node, seconds not the pool's start-up.
          test: {
            name: "unit",
            include: [
              "test/domain/**/*.test.ts",
              "test/lib/**/*.test.ts",
              "test/telephony/**/*.test.ts",
              "test/public/**/*.test.ts",
              "test/scripts/**/*.test.ts",
              "test/project/**/*.test.ts",
              "test/layers.test.ts",
            ],
            environment: "node",
          },
        },
      ],
    },
  };
});

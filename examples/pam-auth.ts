/**
 * A real PAM client over koffi, with the ownership rules of the C API made explicit: the
 * conversation callback must answer with a `pam_response` array from `calloc` and answers from
 * `strdup`, because libpam frees them with `free`. memkit/ffi allocates them with libc, hands
 * them to libpam on success, frees them if the callback fails (answering PAM_CONV_ERR instead of
 * koffi's default 0, which PAM would read as success), and keeps the callback alive while libpam
 * may call it.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Koffi, loadNative, type Native, nativeCallback } from "memkit/ffi";

export const PAM_SUCCESS = 0;
/** What libpam returns for a wrong password with the service file below (from pam_deny). */
export const PAM_AUTH_ERR = 7;
export const PAM_CONV_ERR = 19;
const PAM_PROMPT_ECHO_OFF = 1;
const PAM_PROMPT_ECHO_ON = 2;

interface PamApi {
  readonly PamMessage: object;
  readonly PamResponse: object;
  readonly Conversation: object;
  readonly start: (
    service: string,
    user: string,
    conv: { conv: bigint; appdata_ptr: null },
    confdir: string,
    handle: unknown[],
  ) => number;
  readonly authenticate: (handle: unknown, flags: number) => number;
  readonly end: (handle: unknown, status: number) => number;
}

// koffi refuses to declare a type name twice, so declarations are made once per koffi instance.
const apis = new WeakMap<Koffi, PamApi>();

function pamApi(koffi: Koffi): PamApi {
  let api = apis.get(koffi);
  if (api !== undefined) return api;
  const lib = koffi.load("libpam.so.0");
  const Conversation = koffi.proto("int memkit_pam_conv(int num_msg, void *msg, void *resp, void *appdata)");
  koffi.struct("memkit_pam_conv_t", { conv: koffi.pointer(Conversation), appdata_ptr: "void *" });
  api = {
    PamMessage: koffi.struct("memkit_pam_message", { msg_style: "int", msg: "const char *" }),
    PamResponse: koffi.struct("memkit_pam_response", { resp: "void *", resp_retcode: "int" }),
    Conversation,
    // pam_start_confdir (libpam >= 1.4) reads the service file from our own directory: no root needed.
    start: lib.func(
      "int pam_start_confdir(const char *service, const char *user, const memkit_pam_conv_t *conv, const char *confdir, _Out_ void **pamh)",
    ) as PamApi["start"],
    authenticate: lib.func("int pam_authenticate(void *pamh, int flags)") as PamApi["authenticate"],
    end: lib.func("int pam_end(void *pamh, int status)") as PamApi["end"],
  };
  apis.set(koffi, api);
  return api;
}

/** The password `createPamService` accepts. */
export const PASSWORD = "correct horse";

/**
 * A PAM service in a fresh temporary directory that needs no root and no system user: pam_exec
 * hands the password (expose_authtok) to a script that compares it with `PASSWORD`.
 *
 * pam_exec answers any failing script with PAM_SYSTEM_ERR, so "required" would report a wrong
 * password as a system error. The control below does what Debian's common-auth does: success skips
 * pam_deny, a conversation error ends the stack with PAM_CONV_ERR, and anything else falls through
 * to pam_deny, whose PAM_AUTH_ERR is what a wrong password should be.
 *
 * @returns The `confdir` and `service` for `pamAuthenticate`.
 */
export function createPamService(): { confdir: string; service: string } {
  const confdir = mkdtempSync(join(tmpdir(), "memkit-pam-"));
  const checker = join(confdir, "check-password.sh");
  writeFileSync(
    checker,
    `#!/bin/sh\n# pam_exec expose_authtok writes the password to stdin\npw=$(cat | tr -d '\\000\\n')\n[ "$pw" = "${PASSWORD}" ]\n`,
  );
  chmodSync(checker, 0o755);
  writeFileSync(
    join(confdir, "memkit-test"),
    [
      `auth [success=1 conv_err=die default=ignore] pam_exec.so expose_authtok quiet ${checker}`,
      "auth requisite pam_deny.so",
      "auth required pam_permit.so",
      "account required pam_permit.so",
      "",
    ].join("\n"),
  );
  return { confdir, service: "memkit-test" };
}

export interface PamRequest {
  readonly service: string;
  readonly confdir: string;
  readonly user: string;
  readonly password: string;
  /** Make the conversation callback throw (to test the error path). */
  readonly failInCallback?: boolean;
  readonly native?: Native;
}

export interface PamOutcome {
  /** pam_authenticate's status (PAM_SUCCESS when the password was right). */
  readonly status: number;
  /** What the conversation callback threw, if it did (libpam then saw PAM_CONV_ERR). */
  readonly callbackError: unknown;
  readonly callbackCalls: number;
}

/** Authenticates `user` with `password` against the PAM service file in `confdir`. */
export async function pamAuthenticate(request: PamRequest): Promise<PamOutcome> {
  const native = request.native ?? (await loadNative());
  const { koffi } = native;
  const api = pamApi(koffi);
  const responseSize = koffi.sizeof(api.PamResponse);
  using conversation = nativeCallback(
    native,
    api.Conversation,
    (scope, count: number, messages: unknown, responses: unknown) => {
      const list = koffi.decode(messages, "void *", count) as unknown[];
      // libpam frees this array and every answer with free(): they must come from calloc/strdup.
      const answers = scope.calloc(count, responseSize);
      for (let i = 0; i < count; i++) {
        const message = koffi.decode(list[i], api.PamMessage) as { msg_style: number };
        if (message.msg_style === PAM_PROMPT_ECHO_OFF || message.msg_style === PAM_PROMPT_ECHO_ON) {
          if (request.failInCallback) throw new Error("the password store is unavailable");
          koffi.encode(answers, i * responseSize, api.PamResponse, {
            resp: scope.strdup(request.password),
            resp_retcode: 0,
          });
        }
      }
      koffi.encode(responses, 0, "void *", answers);
      return PAM_SUCCESS;
    },
    { onError: PAM_CONV_ERR, label: "PAM conversation" },
  );
  const handle: unknown[] = [null];
  const started = api.start(
    request.service,
    request.user,
    { conv: conversation.pointer, appdata_ptr: null },
    request.confdir,
    handle,
  );
  if (started !== PAM_SUCCESS)
    return { status: started, callbackError: conversation.lastError, callbackCalls: conversation.calls };
  const status = api.authenticate(handle[0], 0);
  api.end(handle[0], status);
  return { status, callbackError: conversation.lastError, callbackCalls: conversation.calls };
}

/** `npm run example -- pam`: the three outcomes, with the allocation counter that proves ownership. */
export async function main(): Promise<void> {
  const native = await loadNative();
  const { confdir, service } = createPamService();
  const user = "memkit-nobody";
  const cases = [
    { label: "right password", password: PASSWORD, expect: PAM_SUCCESS },
    { label: "wrong password", password: "wrong", expect: PAM_AUTH_ERR },
    { label: "conversation callback throws", password: PASSWORD, failInCallback: true, expect: PAM_CONV_ERR },
  ];
  let ok = true;
  for (const c of cases) {
    const outcome = await pamAuthenticate({ service, confdir, user, native, ...c });
    const fine = outcome.status === c.expect;
    ok &&= fine;
    const thrown = outcome.callbackError instanceof Error ? ` (callback threw: ${outcome.callbackError.message})` : "";
    console.log(`${fine ? "ok " : "BAD"} ${c.label}: status ${outcome.status}, expected ${c.expect}${thrown}`);
  }
  const counts = native.counts;
  console.log(
    `libc blocks: ${counts.allocated} allocated, ${counts.handedOff} handed to libpam (which freed them), ${counts.freed} freed by memkit after the failed callback, ${counts.live} still owned`,
  );
  if (!ok || counts.live !== 0) process.exitCode = 1;
}

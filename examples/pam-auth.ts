/**
 * A real PAM client over koffi, with the ownership rules of the C API made explicit: the
 * conversation callback must answer with a `pam_response` array from `calloc` and answers from
 * `strdup`, because libpam frees them with `free`. memkit/ffi allocates them with libc, hands
 * them to libpam on success, frees them if the callback fails (answering PAM_CONV_ERR instead of
 * koffi's default 0, which PAM would read as success), and keeps the callback alive while libpam
 * may call it.
 */
import { type Koffi, loadNative, type Native, nativeCallback } from "memkit/ffi";

export const PAM_SUCCESS = 0;
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

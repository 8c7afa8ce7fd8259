/**
 * The SMTP client behind the SMTP alerts (src/notify/smtp-alerts.ts): nodemailer's SMTP transport,
 * one plain connection per mail (no pool), never STARTTLS or AUTH (keepalived 2.2.7 speaks plain
 * SMTP only), the HELO name given, and the alert's raw message sent as composed with the envelope
 * given (nodemailer adds no header to a raw message). `smtp_connect_timeout` bounds the connect,
 * the wait for the greeting and every later wait for the server (keepalived's timeout is per read
 * and per connect too). nodemailer is loaded when a transport is made, i.e. when a config with a
 * server and addresses is taken, not on the first mail: loading it holds the event loop for about
 * 35 ms (and adds about 15 MiB of RSS, Node 20), which is better spent at start-up or reload than
 * right after a transition. A config without SMTP alerts never loads it.
 *
 * nodemailer opens with EHLO and falls back to HELO when the server refuses it; keepalived sends
 * HELO only. The rest of the dialogue (MAIL FROM, one RCPT TO per recipient, DATA, QUIT) is the same.
 */

/** Where and how to reach the SMTP server (smtp-alerts.ts `SmtpTarget`). */
export interface SmtpTransportTarget {
  readonly host: string;
  readonly port: number;
  readonly helo: string;
  readonly timeoutMs: number;
}

/** One mail: SMTP envelope and the message as sent after DATA (smtp-alerts.ts `AlertMail`). */
export interface SmtpTransportMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly raw: string;
}

export interface SmtpTransport {
  /** Resolves once the server accepted the message; rejects with the reason otherwise. */
  send(mail: SmtpTransportMail): Promise<void>;
  close(): void;
}

type Nodemailer = typeof import('nodemailer');
let loaded: Promise<Nodemailer> | undefined;

/** A transport to `target` through nodemailer (the transport factory `vrrpd run` gives the alerts). */
export function nodemailerTransport(target: SmtpTransportTarget): SmtpTransport {
  loaded ??= import('nodemailer');
  loaded.catch(() => {}); // a failed load fails each send, which logs it
  let transporter: ReturnType<Nodemailer['createTransport']> | undefined;
  let closed = false;
  return {
    send: async (mail) => {
      const nm = await (loaded ??= import('nodemailer'));
      if (closed) throw new Error('transport closed');
      transporter ??= nm.createTransport({
        host: target.host,
        port: target.port,
        secure: false,
        ignoreTLS: true,
        name: target.helo,
        connectionTimeout: target.timeoutMs,
        greetingTimeout: target.timeoutMs,
        socketTimeout: target.timeoutMs,
        dnsTimeout: target.timeoutMs,
        logger: false,
        debug: false,
      });
      await transporter.sendMail({ envelope: { from: mail.from, to: [...mail.to] }, raw: mail.raw });
    },
    close: () => {
      closed = true;
      transporter?.close();
    },
  };
}

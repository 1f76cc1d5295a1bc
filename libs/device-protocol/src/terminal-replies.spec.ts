import { ProtocolError } from './protocol-error';
import {
  buildQrcodeReply,
  buildRegReply,
  buildSendlogReply,
  buildSenduserReply,
  buildUnknownRequestReply,
} from './terminal-replies';

describe('terminal replies', () => {
  it('reg success and failure', () => {
    expect(buildRegReply({ ok: true, cloudtime: '2024-05-01 08:00:00', nosenduser: true })).toEqual({
      ret: 'reg',
      result: true,
      cloudtime: '2024-05-01 08:00:00',
      nosenduser: true,
    });
    expect(
      buildRegReply({ ok: true, cloudtime: '2024-05-01 08:00:00', nosenduser: false, nosendlog: false }).nosendlog,
    ).toBe(false);
    expect(buildRegReply({ ok: false, reason: 'Unknown terminal' })).toEqual({
      ret: 'reg',
      result: false,
      reason: 'Unknown terminal',
    });
  });

  it('refuses a cloudtime that is not YYYY-MM-DD HH:MM:SS', () => {
    for (const cloudtime of ['2024-05-01T08:00:00Z', '2024-5-1 8:00:00', '']) {
      expect(() => buildRegReply({ ok: true, cloudtime, nosenduser: true })).toThrow(ProtocolError);
      expect(() => buildSendlogReply({ ok: true, count: 1, logindex: 1, cloudtime })).toThrow(ProtocolError);
    }
  });

  it('sendlog ack echoes count and logindex, adds access 1 and mark', () => {
    expect(buildSendlogReply({ ok: true, count: 3, logindex: 0, cloudtime: '2024-05-01 08:00:00' })).toEqual({
      ret: 'sendlog',
      result: true,
      count: 3,
      logindex: 0,
      cloudtime: '2024-05-01 08:00:00',
      access: 1,
      mark: true,
    });
    const noIndex = buildSendlogReply({
      ok: true,
      count: undefined,
      logindex: undefined,
      cloudtime: '2024-05-01 08:00:00',
      access: 0,
      message: 'Denied',
    });
    expect(noIndex).toEqual({
      ret: 'sendlog',
      result: true,
      cloudtime: '2024-05-01 08:00:00',
      access: 0,
      message: 'Denied',
      mark: true,
    });
    expect(buildSendlogReply({ ok: false })).toEqual({ ret: 'sendlog', result: false, reason: 1 });
  });

  it('senduser', () => {
    expect(buildSenduserReply({ ok: true, cloudtime: '2024-05-01 08:00:00', enrollid: 5, backupnum: 0 })).toEqual({
      ret: 'senduser',
      result: true,
      cloudtime: '2024-05-01 08:00:00',
      enrollid: 5,
      backupnum: 0,
    });
    expect(buildSenduserReply({ ok: false, reason: 1 })).toEqual({ ret: 'senduser', result: false, reason: 1 });
    expect(() => buildSenduserReply({ ok: false, reason: 1.5 })).toThrow(ProtocolError);
  });

  it('sendqrcode with display options', () => {
    expect(
      buildQrcodeReply({
        ok: true,
        sn: 'ZX1',
        access: 0,
        message: 'Not configured',
        fontsize: 24,
        text_color: [255, 0, 0],
      }),
    ).toEqual({
      ret: 'sendqrcode',
      sn: 'ZX1',
      result: true,
      access: 0,
      message: 'Not configured',
      fontsize: 24,
      text_color: [255, 0, 0],
    });
    expect(() => buildQrcodeReply({ ok: true, access: 1, fontsize: 13 })).toThrow(ProtocolError);
    expect(() => buildQrcodeReply({ ok: true, access: 1, text_color: [0, 0, 256] })).toThrow(ProtocolError);
  });

  it('unknown requests are answered with success', () => {
    expect(buildUnknownRequestReply('sendgps')).toEqual({ ret: 'sendgps', result: true });
    expect(buildUnknownRequestReply('x'.repeat(100_000))).toEqual({ ret: 'x'.repeat(32), result: true });
  });
});

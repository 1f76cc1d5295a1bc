/** Door events (log records with enrollid 0), from the reference's §7 table. */
export const DOOR_EVENTS: Readonly<Record<number, { name: string; description: string }>> = {
  0: { name: 'door_closed', description: 'Door closed' },
  1: { name: 'door_opened', description: 'Door opened' },
  2: { name: 'exit_button', description: 'Exit button pressed' },
  3: { name: 'software_open', description: 'Door opened by software' },
  4: { name: 'software_close', description: 'Door closed by software' },
  5: { name: 'illegal_open', description: 'Door forced open (illegal open)' },
  6: { name: 'device_removed', description: 'Device removed (tamper)' },
  7: { name: 'input_alarm', description: 'Input alarm' },
};

export function doorEventMeaning(event: number): { name: string; description: string } {
  return DOOR_EVENTS[event] ?? { name: 'unknown', description: `Unknown door event ${event}` };
}

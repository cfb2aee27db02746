/** The platform's published vectors, qq-protocol.md §2.7 V1 (op 13 for SECRET) and V4 (op 0 for SECRET). */
export const V1_SIGNATURE =
  '87befc99c42c651b3aac0278e71ada338433ae26fcb24307bdc5ad38c1adc2d01bcfcadc0842edac85e85205028a1132afe09280305f13aa6909ffc2d652c706';
export const V4 = {
  timestamp: '1725442400',
  body: '{"op":0,"id":"GROUP_AT_MESSAGE_CREATE:k2vq0ghb1s7tfe4ua9xw3nrzyjl6ipmd5c8ob1qhdt0uw7ae2fz","d":{"id":"ROBOT1.0_kX9.Tr2dQ0mB4wYp7Lz8aVgS3nHc1fEj6uKqR5tM!","content":" /weather 北京","timestamp":"2024-09-04T17:33:20+08:00","author":{"id":"E4F4AEA33253A2797FB897C50B81D7ED","member_openid":"E4F4AEA33253A2797FB897C50B81D7ED","union_openid":"E4F4AEA33253A2797FB897C50B81D7ED"},"group_id":"C9F778FE6ADF9D1D1DBE395BF744A33A","group_openid":"C9F778FE6ADF9D1D1DBE395BF744A33A","message_scene":{"source":"default"},"message_type":0},"t":"GROUP_AT_MESSAGE_CREATE"}',
  signature:
    '2d6f6094b2554f48577f3d2a146e9a0074bad7f579684951885e80fcbc25de361e56b7303e472ce826441c87052cdf0daf26188d0544da994db9995778450805',
};

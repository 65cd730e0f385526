//! The portal's one message catalogue: every text a page shows, in
//! English and Simplified Chinese side by side. The macro makes each key a
//! method of `Lang` (`lang.sign_in()`), so a template naming a key that is
//! not here does not compile, and a key cannot be written without both
//! languages. Names, numbers and ids come from the data and are never
//! translated.

use super::i18n::Lang;
use crate::alerts::AlertKind;
use crate::domain::{AssetStatus, LienStatus, OfferStatus, PurchaseOrderStatus, ReceivableStatus, Role};

macro_rules! catalogue {
    ($($key:ident => $en:literal, $zh:literal;)*) => {
        impl Lang {
            $(
                pub fn $key(self) -> &'static str {
                    match self {
                        Lang::En => $en,
                        Lang::Zh => $zh,
                    }
                }
            )*
        }

        /// Every key with its English and Chinese text (for tests).
        pub const CATALOGUE: &[(&str, &str, &str)] = &[$((stringify!($key), $en, $zh)),*];
    };
}

catalogue! {
    product => "Anchorfin", "Anchorfin 供应链金融";
    skip_to_content => "Skip to content", "跳到正文";
    navigation => "Main navigation", "主导航";
    language => "Language", "语言";
    home => "Home", "首页";
    ledger => "Ledger", "账本";
    alert_inbox => "Alert inbox", "预警收件箱";
    sign_in => "Sign in", "登录";
    sign_out => "Sign out", "退出登录";
    signed_in_as => "Signed in as:", "当前登录：";
    api_key => "API key", "API 密钥";
    api_key_help => "The key printed by anchorfin org add (or risk-officer add). It is sent once; the browser then holds a session that ends when you sign out, when it is left unused, or when the key is revoked.",
        "由 anchorfin org add（或 risk-officer add）打印的密钥。密钥只发送一次；之后浏览器持有一个会话，在您退出登录、长时间未使用或密钥被吊销时结束。";
    sign_in_failed => "This API key was not accepted: it is unknown, revoked or mistyped.", "该 API 密钥未被接受：密钥不存在、已被吊销或输入有误。";
    session_ended => "Your session has ended. Please sign in again.", "您的会话已结束，请重新登录。";
    signed_out => "You have signed out.", "您已退出登录。";
    welcome => "Welcome,", "欢迎，";
    role => "Role:", "角色：";
    role_supplier => "Supplier", "供应商";
    role_core_enterprise => "Core enterprise", "核心企业";
    role_bank => "Bank", "银行";
    role_operator => "Operator", "平台运营方";
    role_risk_officer => "Risk officer", "风险官";
    supplier => "Supplier", "供应商";
    asset => "Asset", "资产";
    refused => "Refused:", "已拒绝：";
    to_confirm => "To confirm", "待确认";
    offers => "Offers", "融资要约";
    look_up => "Look-up", "查询";
    confirm_receivable => "Confirm this invoice", "确认此发票";
    dispute_receivable => "Dispute this invoice", "对此发票提出争议";
    dispute_reason => "Reason (recorded, not signed)", "理由（记录在案，不签名）";
    message_to_sign_help => "This is the exact message you sign. It is built from the facts above; your key signs it here in the browser, and only the signature is sent.",
        "以下是您签署的完整消息，由上方信息生成；您的密钥在本浏览器中签名，只发送签名。";
    key_file => "Signing key file", "签名密钥文件";
    key_file_help => "The file anchorfin key gen wrote (64 hex characters). It is read by this page only and never sent.",
        "由 anchorfin key gen 生成的文件（64 位十六进制字符）。仅由本页面读取，绝不发送。";
    key_file_bad => "This file is not a signing key: it must hold 64 hex characters.", "该文件不是签名密钥：应包含 64 位十六进制字符。";
    holder => "Holder", "持有人";
    face_value => "Face value", "面值";
    split_from => "Split from", "拆分自";
    split_into => "Split into", "拆分为";
    lien => "Lien", "担保权益";
    to_acknowledge => "To acknowledge", "待确认订单";
    po_number => "PO number", "采购订单号";
    invoiced => "Invoiced", "已开票";
    currency => "Currency", "币种";
    no_purchase_orders => "No purchase orders.", "没有采购订单。";
    back_to_purchase_orders => "Back to the purchase orders", "返回采购订单列表";
    acknowledge_purchase_order => "Acknowledge this purchase order", "确认此采购订单";
    register_purchase_order => "Register a purchase order", "登记采购订单";
    register_purchase_order_help => "An order a core enterprise placed with you. It is written to the ledger; the buyer then acknowledges it with its signature. The same order (buyer and PO number) is registered once.",
        "核心企业向您下达的订单。登记后写入账本，由买方签名确认。同一订单（买方及采购订单号）只能登记一次。";
    register_invoice => "Register an invoice", "登记发票";
    register_invoice_help => "One invoice you issued to a core enterprise. It is written to the ledger; the buyer then confirms or disputes it with its signature. The same invoice is registered once, by anyone.",
        "您向核心企业开具的一张发票。登记后写入账本，由买方签名确认或提出争议。同一张发票只能登记一次。";
    register => "Register", "登记";
    choose => "Choose...", "请选择…";
    no_purchase_order => "None", "无";
    bank => "Bank", "银行";
    expires_at => "Open until", "有效期至";
    created_at => "Created at", "创建时间";
    offer => "Offer", "融资要约";
    purchase_order => "Purchase order", "采购订单";
    counterparty => "Counterparty", "交易对手";
    make_offer => "Offer to a bank", "向银行发出融资要约";
    offer_terms_help => "Choose the bank and the terms. The next page shows the exact message you sign; the bank can accept only what you signed, and only until it expires.",
        "请选择银行和条款。下一页将显示您签署的完整消息；银行只能在有效期内接受您签署的内容。";
    days_valid => "Open for (days)", "有效天数";
    continue_to_sign => "Continue to signing", "继续签名";
    sign_and_offer => "Send the signed offer", "提交已签名的要约";
    back_to_asset => "Back to the asset", "返回资产";
    back_to_offer => "Back to the offer", "返回要约";
    back_to_offers => "Back to the offers", "返回要约列表";
    no_offers => "No offers.", "没有融资要约。";
    accept_pledge => "Accept with a pledge", "以质押方式接受";
    accept_assignment => "Accept by buying the asset", "以买断方式接受";
    kind_pledge => "Pledge", "质押";
    kind_assignment => "Assignment (sale)", "转让（买断）";
    offer_open => "Open", "有效";
    offer_taken => "Accepted", "已接受";
    offer_withdrawn => "Withdrawn", "已撤回";
    offer_lapsed => "Lapsed", "已过期";
    asset_active => "Active", "有效";
    asset_retired => "Retired (split or transferred)", "已注销（已拆分或转让）";
    asset_settled => "Settled", "已结清";
    asset_defaulted => "Defaulted", "已违约";
    lookup_help => "Whether an invoice is registered, confirmed by its buyer, and already financed: never by whom. Identify it by its seller's and buyer's legal ids and its number (normalised as at registration), or by its fingerprint. Each look-up is recorded.",
        "查询一张发票是否已登记、是否已由买方确认、是否已被融资，但绝不透露融资方。可按卖方和买方的统一社会信用代码及发票号码（按登记时的规则规范化）查询，或按指纹查询。每次查询均有记录。";
    by_invoice => "By invoice", "按发票";
    or_by_fingerprint => "Or by fingerprint", "或按指纹";
    seller_legal_id => "Seller's legal id", "卖方统一社会信用代码";
    buyer_legal_id => "Buyer's legal id", "买方统一社会信用代码";
    answer => "Answer", "查询结果";
    encumbered => "Financed (encumbered)", "已融资（已设定权利负担）";
    yes => "Yes", "是";
    no => "No", "否";
    offer_while_financed => "A lien stands on this asset. An offer to another bank will be refused, and risk officers will be alerted.",
        "此资产上已设有担保权益。向其他银行发出的要约将被拒绝，并会通知风险官。";
    portfolio => "Portfolio", "融资组合";
    no_liens => "No liens.", "没有担保权益。";
    share_paid => "Share paid by the buyer", "买方付款中的份额";
    disbursed => "Disbursed", "已放款";
    repaid => "Repaid", "已还款";
    loan_outstanding => "Loan outstanding", "贷款余额";
    ended_at => "Ended at", "结束时间";
    loan_records => "Loan records", "贷款记录";
    value_date => "Value date", "起息日";
    reference => "Reference", "参考号";
    release_pledge => "Release this pledge", "解除此质押";
    release_help => "Releasing frees the asset: its holder may offer it again. It cannot be undone.", "解除后资产即不再受限，持有人可再次发出要约。此操作不可撤销。";
    confirm_receipt => "Confirm receipt of the share", "确认收到份额";
    lien_active => "Active", "有效";
    lien_released => "Released", "已解除";
    lien_settling => "Paid, receipt awaited", "已付款，待确认收款";
    lien_settled => "Settled", "已结清";
    record_payment => "Record the payment", "登记付款";
    payment_help => "Record what you paid on this asset at maturity. It is distributed to its lienholder and holder as the rules say; the next page shows the exact message you sign.",
        "登记您在到期时就此资产支付的款项。款项将按规则分配给担保权人和持有人；下一页显示您签署的完整消息。";
    paid_on => "Paid on", "付款日期";
    split_asset => "Split or transfer", "拆分或转让";
    split_help => "Divide this asset into parts that add up exactly to its face value; a part may go to another supplier (its organisation id). Empty rows are ignored. The asset is then retired and its parts take its place.",
        "将此资产拆分为合计恰好等于面值的若干部分；某一部分可转让给其他供应商（填写其机构编号）。空行将被忽略。拆分后原资产注销，由各部分取代。";
    part => "Part", "部分";
    transfer_to => "Transfer to (organisation id, optional)", "转让给（机构编号，可选）";
    record_loan => "Record money lent or repaid", "登记放款或还款";
    loan_help => "Record what you lent against this lien, or what was repaid to you, with your own reference. The next page shows the exact message you sign.",
        "登记您依此担保权益发放的贷款或收到的还款，并填写您自己的参考号。下一页显示您签署的完整消息。";
    record_disbursement => "Disbursement (money lent)", "放款";
    record_repayment => "Repayment (money repaid)", "还款";
    back_to_lien => "Back to the lien", "返回担保权益";
    signing_now => "Signing...", "正在签名……";
    signed_ready => "Signed. Check the message, then send.", "已签名。请核对消息后提交。";
    signing_failed => "This browser could not sign:", "此浏览器无法签名：";
    signature_hex => "Signature (hex)", "签名（十六进制）";
    signature_help => "Filled in when you choose your key file; without JavaScript, paste the output of: anchorfin sign --key FILE (the message on standard input).",
        "选择密钥文件后自动填写；若未启用 JavaScript，请粘贴以下命令的输出：anchorfin sign --key FILE（消息从标准输入读入）。";
    landing_core_enterprise => "Invoices your suppliers registered against you wait under To confirm. Open one, check it, and sign its confirmation (or dispute it) with your signing key file, here in the browser.",
        "供应商针对贵方登记的发票列在“待确认”下。打开一张发票，核对后即可在浏览器中用签名密钥文件签署确认（或提出争议）。";
    landing_bank => "Offers addressed to you are under Offers: accept one with a pledge or by buying the asset, signed here in the browser. Look-up tells whether an invoice is registered, confirmed or already financed.",
        "发给您的融资要约列在“融资要约”下：可在浏览器中签名，以质押或买断方式接受。“查询”可查明一张发票是否已登记、已确认或已被融资。";
    landing_operator => "Onboard organisations, see their keys and add their risk officers under Organisations.",
        "请在“机构”中办理机构入驻、查看其密钥并添加风险官。";
    receivables => "Receivables", "应收账款";
    purchase_orders => "Purchase orders", "采购订单";
    status => "Status", "状态";
    count => "Count", "数量";
    amount => "Amount", "金额";
    nothing_registered => "Nothing registered yet.", "尚无登记记录。";
    status_registered => "Registered", "已登记";
    status_confirmed => "Confirmed", "已确认";
    status_disputed => "Disputed", "有争议";
    status_settled => "Settled", "已结清";
    status_defaulted => "Defaulted", "已违约";
    status_acknowledged => "Acknowledged", "已确认收悉";
    status_closed => "Closed", "已关闭";
    status_cancelled => "Cancelled", "已取消";
    status_open => "Open", "未处理";
    open_alerts => "Open alerts", "未处理预警";
    acknowledged_alerts => "Acknowledged alerts", "已处理预警";
    no_open_alerts => "No open alerts.", "没有未处理的预警。";
    no_acknowledged_alerts => "No acknowledged alerts.", "没有已处理的预警。";
    kind => "Kind", "类型";
    all_kinds => "All kinds", "全部类型";
    filter => "Filter", "筛选";
    show_acknowledged => "Show acknowledged alerts", "查看已处理预警";
    show_open => "Show open alerts", "查看未处理预警";
    older => "Older", "更早";
    time => "Time", "时间";
    subject => "Subject", "对象";
    alert => "Alert", "预警";
    attempting_organization => "Attempting organisation", "发起方";
    existing_party => "Existing party", "已有相关方";
    withheld => "(withheld)", "（不予披露）";
    fingerprint_keyed => "Fingerprint (keyed)", "指纹（加密存储）";
    ledger_leaf => "Ledger leaf", "账本叶哈希";
    facts => "Facts", "事实";
    acknowledge => "Acknowledge", "确认收悉";
    acknowledged_at => "Acknowledged at", "处理时间";
    alert_acknowledged => "The alert is acknowledged.", "该预警已确认收悉。";
    already_acknowledged => "This alert was acknowledged already.", "该预警此前已被确认收悉。";
    back_to_inbox => "Back to the inbox", "返回收件箱";
    refreshes_itself => "This page refreshes itself while it is open.", "本页面在打开期间会自动刷新。";
    kind_duplicate_registration => "Duplicate registration", "重复登记";
    kind_near_duplicate_registration => "Near-duplicate registration", "疑似重复登记";
    kind_duplicate_pledge => "Duplicate pledge", "重复质押";
    kind_po_double_financing => "Purchase order financed twice", "采购订单重复融资";
    kind_lookup_enumeration => "Look-up enumeration", "批量试探查询";
    kind_ledger_stalled => "Ledger stalled", "账本停滞";
    kind_dilution => "Dilution (credit note)", "贷项通知稀释";
    kind_late_correction => "Late correction", "逾时更正";
    kind_log_inconsistency => "Log inconsistency (fork)", "账本不一致（分叉）";
    signed_tree_head => "Signed tree head", "已签名树头";
    tree_size => "Tree size", "树大小";
    root_hash => "Root hash", "根哈希";
    signature => "Signature", "签名";
    signed_at => "Signed at", "签名时间";
    public_key => "Platform public key", "平台公钥";
    checkpoint => "Checkpoint", "检查点";
    recent_entries => "Recent entries", "最近条目";
    index => "Index", "序号";
    leaf_hash => "Leaf hash", "叶哈希";
    inclusion_proof => "Inclusion proof", "包含证明";
    proof_json => "proof (JSON)", "证明（JSON）";
    ledger_empty => "The ledger has no signed head yet. Try again in a moment.", "账本尚无已签名树头，请稍后再试。";
    ledger_sealed_note => "Entries you are not a party to show only as business: the ledger keeps their details from you.",
        "您不是当事方的条目仅显示为“业务”：账本不向您披露其详情。";
    error_forbidden => "You may not open this page with the key you signed in with.", "您登录所用的密钥无权打开此页面。";
    error_csrf => "This form was refused: it did not come from a page of this session. Go back, reload the page and try again.",
        "此表单被拒绝：它并非来自本次会话的页面。请返回、刷新页面后重试。";
    error_not_found => "There is nothing at this address, or nothing you may see.", "此地址不存在内容，或您无权查看。";
    error_rate_limited => "Too many requests. Please wait a moment and try again.", "请求过于频繁，请稍候再试。";
    error_unavailable => "The service is briefly unavailable. Please try again in a moment.", "服务暂时不可用，请稍后再试。";
    error_internal => "Something went wrong on our side. Please try again.", "我们这边出了问题，请重试。";
    error_bad_request => "This request could not be read. Go back and try again.", "无法读取此请求，请返回后重试。";
    receivable => "Receivable", "应收账款";
    all_statuses => "All statuses", "全部状态";
    invoice_number => "Invoice number", "发票号码";
    buyer => "Buyer", "买方";
    issue_date => "Issue date", "开票日期";
    due_date => "Due date", "到期日";
    outstanding => "Outstanding", "未偿金额";
    credited => "Credited (credit notes)", "已贷记（贷项通知）";
    fingerprint => "Fingerprint", "指纹";
    registered_at => "Registered at", "登记时间";
    superseded_by => "Replaced by", "已被更正为";
    order_reference => "Order reference", "订单参考号";
    no_receivables => "No receivables.", "没有应收账款。";
    next_page => "Next page", "下一页";
    first_page => "First page", "第一页";
    back_to_receivables => "Back to the receivables", "返回应收账款列表";
    upload => "Upload", "上传";
    upload_title => "Upload invoices", "上传发票";
    upload_help => "A CSV file, an .xlsx workbook or UBL XML (invoices, credit notes, orders): at most 32 MiB and 100,000 rows. Up to 10,000 rows are decided at once; a larger file is decided in the background and its page follows it. The same file again shows its first report.",
        "CSV 文件、.xlsx 工作簿或 UBL XML（发票、贷项通知、订单）：最大 32 MiB、100,000 行。10,000 行以内立即处理；更大的文件在后台处理，其页面会跟踪进度。再次上传同一文件将显示其首次的报告。";
    file => "File", "文件";
    upload_report => "Upload report", "上传报告";
    rows_created => "Created:", "已登记：";
    rows_rejected => "Rejected:", "被拒绝：";
    replayed_notice => "This file was uploaded before: this is its report, and nothing was registered again.", "该文件此前已上传：以下是当时的报告，未重复登记任何内容。";
    download_csv => "Download the report (CSV)", "下载报告（CSV）";
    upload_another => "Upload another file", "上传其他文件";
    line => "Line", "行";
    refusal_code => "Code", "代码";
    field => "Field", "字段";
    value => "Value", "值";
    detail => "Detail", "说明";
    note => "Note", "备注";
    row_created => "Created", "已登记";
    row_rejected => "Rejected", "被拒绝";
    upload_running => "This file is being decided in the background.", "该文件正在后台处理。";
    rows_decided => "Rows decided:", "已处理行数：";
    upload_failed => "This upload failed. Upload the same file again to take it up where it stopped. The cause:", "该上传失败。再次上传同一文件即可从中断处继续。原因：";
    file_missing => "Choose a file to upload.", "请选择要上传的文件。";
    file_unsupported => "This file was refused: it is not CSV, an .xlsx workbook or UBL XML. Nothing was registered.", "该文件被拒绝：它不是 CSV、.xlsx 工作簿或 UBL XML。未登记任何内容。";
    file_bad_header => "This file was refused: its header is not a known set of columns. Nothing was registered.", "该文件被拒绝：其表头不是可识别的列。未登记任何内容。";
    file_too_many_rows => "This file was refused: it holds more than 100,000 rows. Nothing was registered.", "该文件被拒绝：超过 100,000 行。未登记任何内容。";
    file_malformed => "This file was refused: it is not well-formed XML holding a supported document. Nothing was registered.", "该文件被拒绝：它不是包含受支持单据的格式正确的 XML。未登记任何内容。";
    file_unreadable => "This file was refused: its bytes could not be read (an unknown text encoding or a broken workbook). Nothing was registered.", "该文件被拒绝：无法读取其内容（未知的文本编码或损坏的工作簿）。未登记任何内容。";
    error_file_too_large => "This file is larger than 32 MiB, the most an upload may be. Nothing was registered.", "该文件超过上传上限 32 MiB。未登记任何内容。";
    error_title => "Not possible", "无法完成";
    log_origin => "Log origin", "日志来源";
    ledger_check_trust => "The Check button checks an entry in your browser: its bytes hash to the leaf hash shown, and the inclusion proof leads to the root hash of the latest tree head signed with the platform public key shown above. It trusts that key as this platform serves it: a bank compares it with the key it was given when it joined.",
        "“核验”按钮在您的浏览器中检查条目：其字节的哈希等于所示叶哈希，且包含证明可推出以上方平台公钥签名的最新树头的根哈希。核验信任本平台提供的该公钥：银行应将其与加入时获得的公钥进行比对。";
    check => "Check", "核验";
    checking => "Checking...", "正在核验……";
    ledger_verified => "Verified on the ledger (tree size {size})", "已在账本上验证（树大小 {size}）";
    ledger_not_verified => "NOT verified:", "未通过验证：";
    ledger_reason_unsupported => "this browser cannot check SHA-256 and Ed25519 signatures here (WebCrypto needs HTTPS or this computer, and a browser with Ed25519).", "此浏览器无法在此校验 SHA-256 和 Ed25519 签名（WebCrypto 需要 HTTPS 或本机访问，以及支持 Ed25519 的浏览器）。";
    ledger_reason_unreadable => "the ledger could not be read; try again.", "无法读取账本，请重试。";
    ledger_reason_malformed_head => "the signed tree head is not a well-formed checkpoint.", "已签名树头不是格式正确的检查点。";
    ledger_reason_wrong_origin => "the tree head names another log than this page's.", "树头所属的日志与本页不同。";
    ledger_reason_no_signature => "the tree head carries no signature by the platform public key shown.", "树头没有所示平台公钥的签名。";
    ledger_reason_bad_signature => "the tree head's signature does not verify with the platform public key shown.", "树头的签名无法用所示平台公钥验证。";
    ledger_reason_not_in_tree => "the signed tree head does not include this entry yet.", "已签名树头尚未包含此条目。";
    ledger_reason_leaf_mismatch => "the entry's bytes do not hash to the leaf hash shown.", "条目字节的哈希与所示叶哈希不符。";
    ledger_reason_malformed_proof => "the inclusion proof has the wrong number or length of hashes.", "包含证明的哈希数量或长度有误。";
    ledger_reason_head_mismatch => "the tree head's size, root hash or signature differ from what its signed note says.", "树头的大小、根哈希或签名与其已签名记录不一致。";
    ledger_reason_root_mismatch => "the inclusion proof does not lead to the signed root hash.", "包含证明推不出已签名的根哈希。";
    organizations => "Organisations", "机构";
    onboard => "Onboard", "机构入驻";
    onboard_title => "Onboard an organisation", "新机构入驻";
    onboard_help => "The organisation, its identifiers and its signing keys are public on the ledger once onboarded. Its API key is shown once, on the next page.",
        "机构入驻后，其名称、标识和签名公钥将在账本上公开。其 API 密钥只在下一页显示一次。";
    organization_name => "Name", "名称";
    organization_role => "Role", "角色";
    legal_id => "Legal id", "法定标识";
    legal_id_help => "Unified social credit code, LEI or similar.", "统一社会信用代码、LEI 或类似标识。";
    identifiers => "Other identifiers", "其他标识";
    identifiers_help => "Optional, one a line, at most 16: SCHEME:VALUE, the scheme an ISO 6523 code such as 0088 for a GLN, or VAT.",
        "选填，每行一个，最多 16 个：格式为 SCHEME:VALUE，SCHEME 为 ISO 6523 代码（如 GLN 的 0088）或 VAT。";
    identifier_shape => "must be written SCHEME:VALUE, such as 0088:7300010000001", "须写作 SCHEME:VALUE，例如 0088:7300010000001";
    signing_keys => "Signing public keys", "签名公钥";
    signing_keys_help => "Optional, one a line: an ed25519 public key as 64 hex characters, as anchorfin key gen prints it. The organisation signs confirmations, offers and pledges with it.",
        "选填，每行一个：64 位十六进制的 ed25519 公钥（即 anchorfin key gen 打印的内容）。机构用它签署确认、要约和质押。";
    risk_emails => "Risk officers' e-mail addresses", "风险官电子邮箱";
    risk_emails_help => "Optional, one a line. Each risk officer gets an API key of their own, which opens only the alert inbox.",
        "选填，每行一个。每位风险官都会获得自己的 API 密钥，该密钥只能打开预警收件箱。";
    duplicate_legal_id => "an organisation with this legal id is onboarded already", "已有使用该法定标识的机构入驻";
    duplicate_identifier => "this identifier belongs to another organisation already", "该标识已属于另一机构";
    public_key_taken => "this public key is registered already", "该公钥已被注册";
    duplicate_email => "this organisation has a risk officer with this address already", "该机构已有使用此邮箱的风险官";
    nothing_written => "Nothing was recorded.", "未记录任何内容。";
    onboarded_title => "Organisation onboarded", "机构已入驻";
    key_shown_once => "Copy the API key now: it is shown this once and cannot be shown again (only its hash is kept). Hand it to the organisation over a safe channel.",
        "请立即复制 API 密钥：它只显示这一次，之后无法再次显示（系统只保存其哈希值）。请通过安全渠道交给该机构。";
    organization_id => "Id", "编号";
    no_organizations => "No organisations.", "没有机构。";
    risk_officers => "Risk officers", "风险官";
    email => "E-mail address", "电子邮箱";
    no_risk_officers => "No risk officers.", "没有风险官。";
    api_keys => "API keys", "API 密钥";
    api_keys_note => "Only each key's public id is shown; the secret was shown once, when the key was made.", "此处只显示每个密钥的公开编号；密钥本身仅在创建时显示过一次。";
    key_id => "Key id", "密钥编号";
    key_holder => "Holder", "持有者";
    key_holder_organization => "The organisation", "机构本身";
    key_active => "Active", "有效";
    key_revoked => "Revoked", "已吊销";
    add_risk_officer => "Add a risk officer", "添加风险官";
    risk_officer_added => "Risk officer added", "风险官已添加";
    risk_officer_help => "The risk officer gets an API key of their own, shown once, which opens only the alert inbox.",
        "风险官将获得自己的 API 密钥（只显示一次），该密钥只能打开预警收件箱。";
    back_to_organization => "Back to the organisation", "返回机构页面";
    back_to_organizations => "Back to the organisations", "返回机构列表";
}

/// The name of an alert kind; an unknown kind shows as stored.
pub fn alert_kind(lang: Lang, kind: &str) -> String {
    let Some(known) = AlertKind::parse(kind) else {
        return kind.to_owned();
    };
    match known {
        AlertKind::DuplicateRegistration => lang.kind_duplicate_registration(),
        AlertKind::NearDuplicateRegistration => lang.kind_near_duplicate_registration(),
        AlertKind::DuplicatePledge => lang.kind_duplicate_pledge(),
        AlertKind::PoDoubleFinancing => lang.kind_po_double_financing(),
        AlertKind::LookupEnumeration => lang.kind_lookup_enumeration(),
        AlertKind::LedgerStalled => lang.kind_ledger_stalled(),
        AlertKind::Dilution => lang.kind_dilution(),
        AlertKind::LateCorrection => lang.kind_late_correction(),
        AlertKind::LogInconsistency => lang.kind_log_inconsistency(),
    }
    .to_owned()
}

pub fn role(lang: Lang, role: Role) -> &'static str {
    match role {
        Role::Supplier => lang.role_supplier(),
        Role::CoreEnterprise => lang.role_core_enterprise(),
        Role::Bank => lang.role_bank(),
        Role::Operator => lang.role_operator(),
    }
}

pub fn receivable_status(lang: Lang, status: ReceivableStatus) -> &'static str {
    match status {
        ReceivableStatus::Registered => lang.status_registered(),
        ReceivableStatus::Confirmed => lang.status_confirmed(),
        ReceivableStatus::Disputed => lang.status_disputed(),
        ReceivableStatus::Settled => lang.status_settled(),
        ReceivableStatus::Defaulted => lang.status_defaulted(),
    }
}

pub fn asset_status(lang: Lang, status: AssetStatus) -> &'static str {
    match status {
        AssetStatus::Active => lang.asset_active(),
        AssetStatus::Retired => lang.asset_retired(),
        AssetStatus::Settled => lang.asset_settled(),
        AssetStatus::Defaulted => lang.asset_defaulted(),
    }
}

pub fn lien_status(lang: Lang, status: LienStatus) -> &'static str {
    match status {
        LienStatus::Active => lang.lien_active(),
        LienStatus::Released => lang.lien_released(),
        LienStatus::Settling => lang.lien_settling(),
        LienStatus::Settled => lang.lien_settled(),
    }
}

/// An offer's status as a view writes it; an unknown one as written.
pub fn offer_status(lang: Lang, status: &str) -> &'static str {
    match OfferStatus::parse(status) {
        Some(OfferStatus::Open) => lang.offer_open(),
        Some(OfferStatus::Taken) => lang.offer_taken(),
        Some(OfferStatus::Withdrawn) => lang.offer_withdrawn(),
        Some(OfferStatus::Lapsed) => lang.offer_lapsed(),
        None => "?",
    }
}

/// A lien's or an offer's kind (`pledge`, `assignment`).
pub fn lien_kind(lang: Lang, kind: &str) -> &'static str {
    if kind == "assignment" {
        lang.kind_assignment()
    } else {
        lang.kind_pledge()
    }
}

pub fn purchase_order_status(lang: Lang, status: PurchaseOrderStatus) -> &'static str {
    match status {
        PurchaseOrderStatus::Registered => lang.status_registered(),
        PurchaseOrderStatus::Acknowledged => lang.status_acknowledged(),
        PurchaseOrderStatus::Closed => lang.status_closed(),
        PurchaseOrderStatus::Cancelled => lang.status_cancelled(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_both_languages_and_the_chinese_is_chinese() {
        let mut keys: Vec<&str> = CATALOGUE.iter().map(|(key, _, _)| *key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), CATALOGUE.len(), "a key is listed twice");
        for (key, english, chinese) in CATALOGUE {
            assert!(!english.trim().is_empty(), "{key}: no English");
            assert!(!chinese.trim().is_empty(), "{key}: no Chinese");
            assert!(
                chinese
                    .chars()
                    .any(|character| ('\u{4e00}'..='\u{9fff}').contains(&character)),
                "{key}: the Chinese text {chinese:?} has no Chinese in it"
            );
            assert!(
                english.is_ascii(),
                "{key}: the English text {english:?} is not plain ASCII"
            );
        }
    }

    #[test]
    fn every_alert_kind_and_status_has_a_name_in_both_languages() {
        for lang in Lang::ALL {
            for kind in AlertKind::ALL {
                assert_ne!(alert_kind(lang, kind.as_str()), kind.as_str(), "{kind:?}");
            }
            for status in ReceivableStatus::ALL {
                assert!(!receivable_status(lang, *status).is_empty());
            }
        }
        assert_eq!(alert_kind(Lang::En, "something_new"), "something_new");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {MinDelayAdminRules} from "./access/MinDelayAdminRules.sol";
import {EpochOracle} from "./EpochOracle.sol";
import {IEpochOracle} from "./interfaces/IVVV.sol";

/// @title DataRequests
/// @notice Bonded data requests against the EpochOracle's reports, so that an oracle that
///         withholds tree data (nodes whose contents it never publishes, or a random root) can
///         be proven wrong on chain. Modelled on Optimism's Alt-DA `DataAvailabilityChallenge`
///         (bond, challenge window, resolve window).
///
///         During a report's dispute window as posted, anyone asks for an account's leaf
///         (`requestLeaf`) or a position's leaf (`requestLeafAt`) with a bond in ETH. Anyone
///         answers (`answerLeaf`) with the leaf, the leaves that show the account absent, or the
///         position's leaf, each on a path of the implied depth (checked by
///         `EpochOracle.answers`): the bond goes to the treasury. Unanswered when the response
///         window ends, anyone resolves it (`resolveRequest`): the report (and every report
///         after it) is rejected and the bond is the requester's again. A request whose report
///         was rejected otherwise is resolved for a refund at any time. While a request is open,
///         its report and every later one are not final (the oracle keeps that count).
///         Bonds and refunds are pull payments (`withdrawBonds`).
/// @dev Created by the EpochOracle's constructor (`oracle` is its creator). A request is keyed
///      by `(epoch, query, target)` and tied to the report's version: a request on a rejected
///      version is refunded when a new one for the same leaf is made.
contract DataRequests is MinDelayAdminRules, ReentrancyGuardTransient {
    /// @notice Bounds of the bond of a data request, in wei (a whole number of gwei).
    uint256 public constant MIN_DATA_REQUEST_BOND = 0.001 ether;
    uint256 public constant MAX_DATA_REQUEST_BOND = 1 ether;
    /// @notice Bounds of the response window of a data request.
    uint256 public constant MIN_RESPONSE_WINDOW = 15 minutes;
    uint256 public constant MAX_RESPONSE_WINDOW = 1 days;

    /// @notice State of a data request.
    enum RequestState {
        None,
        Open,
        Answered,
        Resolved
    }

    /// @dev A data request, one slot: requester (160) | deadline (40) | bondGwei (32) |
    ///      version (16, of the report it is tied to) | state (8).
    struct Request {
        address requester;
        uint40 deadline;
        uint32 bondGwei;
        uint16 version;
        RequestState state;
    }

    /// @dev The parameters of new requests, one slot: bond (wei, 64) | responseWindow (32).
    struct Params {
        uint64 bond;
        uint32 responseWindow;
    }

    /// @notice The oracle whose reports the requests are about.
    EpochOracle public immutable oracle;
    /// @notice Receives the bonds of answered requests.
    address public immutable treasury;

    Params private _params;
    mapping(bytes32 requestId => Request) private _requests;
    mapping(address account => uint256) private _bonds;

    /// @notice `requester` asked for the leaf of `target` (an account as `uint160`, or a
    ///         position) in version `version` of the report of `epoch`; answer before `deadline`.
    event LeafRequested(
        uint256 indexed epoch,
        bytes32 indexed requestId,
        EpochOracle.LeafQuery query,
        uint256 target,
        uint256 version,
        address requester,
        uint256 bond,
        uint256 deadline
    );
    /// @notice `answerer` answered the request (the leaves and their paths are in the
    ///         transaction's input); the bond is the treasury's.
    event LeafAnswered(uint256 indexed epoch, bytes32 indexed requestId, address answerer);
    /// @notice An open request was resolved: unanswered in its window (`reportRejected`: the
    ///         report was rejected), or its report had been rejected otherwise; the bond is the
    ///         requester's again.
    event RequestResolved(uint256 indexed epoch, bytes32 indexed requestId, bool reportRejected);
    /// @notice `account`'s bonds (refunds, or the treasury's answered bonds) were paid out.
    event BondsWithdrawn(address indexed account, uint256 amount);
    /// @notice The bond of new requests changed.
    event DataRequestBondUpdated(uint256 bond);
    /// @notice The response window of new requests changed.
    event ResponseWindowUpdated(uint256 responseWindow);

    /// @notice The bond is outside [MIN_DATA_REQUEST_BOND, MAX_DATA_REQUEST_BOND] or not a whole
    ///         number of gwei.
    error InvalidDataRequestBond(uint256 bond, uint256 minimum, uint256 maximum);
    /// @notice The response window is outside [MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW].
    error InvalidResponseWindow(uint256 responseWindow, uint256 minimum, uint256 maximum);
    /// @notice The ETH sent is not the bond.
    error WrongBond(uint256 sent, uint256 bond);
    /// @notice The same leaf is already asked for (open) or was answered, on this version.
    error RequestExists(uint256 epoch, bytes32 requestId, RequestState state);
    /// @notice No open request with this id on a live report.
    error RequestNotOpen(bytes32 requestId);
    /// @notice The request's response window is over: resolve it instead.
    error ResponseWindowClosed(bytes32 requestId, uint256 deadline);
    /// @notice The request can be answered until `deadline`: it cannot be resolved yet.
    error ResponseWindowOpen(bytes32 requestId, uint256 deadline);
    /// @notice The leaves do not answer the request.
    error NotAnAnswer(bytes32 requestId);
    /// @notice Nothing to withdraw.
    error NoBonds(address account);

    /// @param admin The default admin (sets the bond and the response window).
    /// @param adminDelay Delay of the default admin transfer, in seconds.
    /// @param treasury_ Receives the bonds of answered requests.
    /// @dev The bond starts at 0.01 ETH and the response window at 1 hour.
    constructor(address admin, uint48 adminDelay, address treasury_) MinDelayAdminRules(adminDelay, admin) {
        if (treasury_ == address(0)) revert ZeroAddress();
        oracle = EpochOracle(msg.sender);
        treasury = treasury_;
        _params = Params({bond: uint64(0.01 ether), responseWindow: uint32(1 hours)});
        emit DataRequestBondUpdated(0.01 ether);
        emit ResponseWindowUpdated(1 hours);
    }

    /// @notice Asks for the leaf of `account` in the report of `epoch` as posted: its leaf, or
    ///         the leaves that show it absent. Bonded with `dataRequestBond()` wei.
    ///
    /// Requirements:
    /// - the report is live and in its dispute window as posted (the oracle's `NoReport`,
    ///   `ReportAlreadyRejected`, `RequestWindowClosed`);
    /// - `msg.value` is the bond (`WrongBond`);
    /// - the same leaf is not already asked for or answered on this version (`RequestExists`).
    ///
    /// Emits {LeafRequested}.
    /// @return id `requestId(epoch, LeafQuery.Account, uint160(account))`.
    function requestLeaf(uint256 epoch, address account) external payable returns (bytes32 id) {
        return _request(epoch, EpochOracle.LeafQuery.Account, uint256(uint160(account)));
    }

    /// @notice Asks for the leaf (real or empty) at `position` in the report of `epoch` as
    ///         posted. Bonded with `dataRequestBond()` wei.
    ///
    /// Requirements: those of `requestLeaf`, and `position < 2^depth` of the report's tree
    /// (the oracle's `PositionOutOfRange`).
    ///
    /// Emits {LeafRequested}.
    /// @return id `requestId(epoch, LeafQuery.Position, position)`.
    function requestLeafAt(uint256 epoch, uint256 position) external payable returns (bytes32 id) {
        return _request(epoch, EpochOracle.LeafQuery.Position, position);
    }

    /// @notice Answers an open request: for an account, its leaf or the leaves that show it
    ///         absent (none for an empty set); for a position, the leaf at it (an empty leaf is
    ///         account 0 and stake 0); every path reaching the root with the implied depth.
    ///         The bond goes to the treasury; the report and every later one are not final for
    ///         at least `MIN_WINDOW_AFTER_ANSWER` more.
    ///
    /// Requirements:
    /// - the request is open on the live version of its report (`RequestNotOpen`) and in its
    ///   response window (`ResponseWindowClosed`);
    /// - `leaves` answer it (`NotAnAnswer`, or the oracle's `InvalidProof`).
    ///
    /// Emits {LeafAnswered} (and the oracle's {FinalityHeld}).
    function answerLeaf(
        uint256 epoch,
        EpochOracle.LeafQuery query,
        uint256 target,
        EpochOracle.LeafProof[] calldata leaves
    ) external {
        bytes32 id = requestId(epoch, query, target);
        Request memory q = _requests[id];
        if (q.state != RequestState.Open) revert RequestNotOpen(id);
        if (block.timestamp >= q.deadline) revert ResponseWindowClosed(id, q.deadline);
        if (!oracle.answers(epoch, query, target, leaves)) revert NotAnAnswer(id);
        if (!oracle.closeRequest(epoch, q.version, true, q.requester, target)) revert RequestNotOpen(id);
        _requests[id].state = RequestState.Answered;
        _bonds[treasury] += uint256(q.bondGwei) * 1 gwei;
        emit LeafAnswered(epoch, id, msg.sender);
    }

    /// @notice Resolves an open request: after its response window, unanswered, the report
    ///         (and every report after it) is rejected; a request whose report was rejected
    ///         otherwise is resolved at any time. Either way the bond is the requester's again.
    ///         Anyone may call it.
    ///
    /// Requirements: the request is open (`RequestNotOpen`); its report was rejected, or its
    /// response window is over (`ResponseWindowOpen`).
    ///
    /// Emits {RequestResolved} (and the oracle's {ReportChallenged} when it rejects the report).
    function resolveRequest(uint256 epoch, EpochOracle.LeafQuery query, uint256 target) external {
        bytes32 id = requestId(epoch, query, target);
        Request memory q = _requests[id];
        if (q.state != RequestState.Open) revert RequestNotOpen(id);
        (uint256 version,,) = oracle.reportRecord(epoch);
        bool live = version == q.version && oracle.reportStatus(epoch) != IEpochOracle.Status.Rejected;
        if (live && block.timestamp < q.deadline) revert ResponseWindowOpen(id, q.deadline);
        _requests[id].state = RequestState.Resolved;
        _bonds[q.requester] += uint256(q.bondGwei) * 1 gwei;
        bool rejected = live && oracle.closeRequest(epoch, q.version, false, q.requester, target);
        emit RequestResolved(epoch, id, rejected);
    }

    /// @notice Pays the caller its bonds: refunds of resolved requests, and for the treasury the
    ///         bonds of answered ones.
    ///
    /// Requirements: something to withdraw (`NoBonds`).
    ///
    /// Emits {BondsWithdrawn}.
    function withdrawBonds() external nonReentrant {
        uint256 amount = _bonds[msg.sender];
        if (amount == 0) revert NoBonds(msg.sender);
        _bonds[msg.sender] = 0;
        emit BondsWithdrawn(msg.sender, amount);
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @notice Sets the bond of new requests (open requests keep theirs).
    ///
    /// Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; the bond is within
    /// [MIN_DATA_REQUEST_BOND, MAX_DATA_REQUEST_BOND] and a whole number of gwei
    /// (`InvalidDataRequestBond`).
    ///
    /// Emits a {DataRequestBondUpdated} event.
    function setDataRequestBond(uint256 bond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bond < MIN_DATA_REQUEST_BOND || bond > MAX_DATA_REQUEST_BOND || bond % 1 gwei != 0) {
            revert InvalidDataRequestBond(bond, MIN_DATA_REQUEST_BOND, MAX_DATA_REQUEST_BOND);
        }
        _params.bond = uint64(bond);
        emit DataRequestBondUpdated(bond);
    }

    /// @notice Sets the response window of new requests.
    ///
    /// Requirements: the caller holds `DEFAULT_ADMIN_ROLE`; the window is within
    /// [MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW] (`InvalidResponseWindow`).
    ///
    /// Emits a {ResponseWindowUpdated} event.
    function setResponseWindow(uint256 responseWindow_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (responseWindow_ < MIN_RESPONSE_WINDOW || responseWindow_ > MAX_RESPONSE_WINDOW) {
            revert InvalidResponseWindow(responseWindow_, MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW);
        }
        _params.responseWindow = uint32(responseWindow_);
        emit ResponseWindowUpdated(responseWindow_);
    }

    /// @notice Bond of a new request, in wei.
    function dataRequestBond() external view returns (uint256) {
        return _params.bond;
    }

    /// @notice Response window of a new request, in seconds.
    function responseWindow() external view returns (uint256) {
        return _params.responseWindow;
    }

    /// @notice Id of the request for `target` (an account as `uint160`, or a position) in the
    ///         report of `epoch`.
    function requestId(uint256 epoch, EpochOracle.LeafQuery query, uint256 target) public pure returns (bytes32) {
        return keccak256(abi.encode(epoch, query, target));
    }

    /// @notice A request: who asked, until when it can be answered, its bond (wei), the version
    ///         of the report it is tied to, and its state.
    function dataRequest(uint256 epoch, EpochOracle.LeafQuery query, uint256 target)
        external
        view
        returns (address requester, uint256 deadline, uint256 bond, uint256 version, RequestState state)
    {
        Request memory q = _requests[requestId(epoch, query, target)];
        return (q.requester, q.deadline, uint256(q.bondGwei) * 1 gwei, q.version, q.state);
    }

    /// @notice Bonds `account` can withdraw (`withdrawBonds`).
    function bondsOf(address account) external view returns (uint256) {
        return _bonds[account];
    }

    /// @dev A bonded request on the live report of `epoch` (the oracle checks the report, its
    ///      window and the position, and counts the request open).
    function _request(uint256 epoch, EpochOracle.LeafQuery query, uint256 target) private returns (bytes32 id) {
        Params memory p = _params;
        if (msg.value != p.bond) revert WrongBond(msg.value, p.bond);
        uint256 version = oracle.openRequest(epoch, query, target);
        id = requestId(epoch, query, target);
        Request memory old = _requests[id];
        if (old.state == RequestState.Open || old.state == RequestState.Answered) {
            if (old.version == version) revert RequestExists(epoch, id, old.state);
            // a request left open on a rejected version of the report: refunded
            if (old.state == RequestState.Open) {
                _bonds[old.requester] += uint256(old.bondGwei) * 1 gwei;
                emit RequestResolved(epoch, id, false);
            }
        }
        uint256 deadline = block.timestamp + p.responseWindow;
        _requests[id] = Request({
            requester: msg.sender,
            deadline: uint40(deadline),
            bondGwei: uint32(p.bond / 1 gwei),
            version: uint16(version),
            state: RequestState.Open
        });
        emit LeafRequested(epoch, id, query, target, version, msg.sender, p.bond, deadline);
    }
}
